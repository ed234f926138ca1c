"""Speaker embeddings from Resemblyzer's GE2E voice encoder (weights ship in the package)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .model_files import ModelNotFoundError

_HINT = "pip install 'resemblyzer==0.1.4' (it carries its voice-encoder weights)"


@dataclass(frozen=True)
class EmbedderCapabilities:
    """What a voice embedder gives the speaker engine."""

    dimensions: int
    min_seconds: float  # shorter audio gives an unreliable embedding


class ResemblyzerEmbedder:
    """256-d unit-length voice embeddings; 1.6 s partials averaged over a segment."""

    name = "resemblyzer"
    capabilities = EmbedderCapabilities(dimensions=256, min_seconds=0.7)

    def __init__(self) -> None:
        try:
            import torch

            with warnings.catch_warnings():  # its deps use deprecated scipy/pkg_resources paths
                warnings.simplefilter("ignore")
                from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise ModelNotFoundError(f"the speaker model is not installed; {_HINT}") from exc
        torch.set_num_threads(1)
        self._encoder = VoiceEncoder(device="cpu", verbose=False)

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One embedding for a stretch of one voice (16 kHz float32)."""
        return self._encoder.embed_utterance(audio.astype(np.float32, copy=False))

    def partials(self, audio: np.ndarray, rate: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of 1.6 s slices every 1/``rate`` s, with each slice's centre in seconds."""
        _, partial, slices = self._encoder.embed_utterance(
            audio.astype(np.float32, copy=False), return_partials=True, rate=rate
        )
        centres = np.array([(s.start + s.stop) / 2 / 16_000 for s in slices])
        return partial, np.minimum(centres, audio.size / 16_000)
