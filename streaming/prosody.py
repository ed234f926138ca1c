"""Prosody of a stretch of speech: level and pitch (Praat, through parselmouth)."""

from __future__ import annotations

import numpy as np

from .clock import SAMPLE_RATE
from .records import Prosody

_FRAME = 320  # 20 ms


def measure(audio: np.ndarray) -> Prosody:
    """Active level (dBFS over the louder half of 20 ms frames) and median F0."""
    import parselmouth

    frames = audio[: audio.size - audio.size % _FRAME].reshape(-1, _FRAME)
    if not frames.size:
        return Prosody(level_db=-120.0, pitch_hz=None, seconds=audio.size / SAMPLE_RATE)
    energy = np.mean(frames.astype(np.float64) ** 2, axis=1)
    active = energy[energy >= np.median(energy)]
    level = 10 * np.log10(float(np.mean(active)) + 1e-12)
    pitch = parselmouth.Sound(audio.astype(np.float64), SAMPLE_RATE).to_pitch(
        time_step=0.01, pitch_floor=75.0, pitch_ceiling=500.0
    )
    f0 = pitch.selected_array["frequency"]
    voiced = f0[f0 > 0]
    median = float(np.median(voiced)) if voiced.size >= 10 else None
    return Prosody(level_db=level, pitch_hz=median, seconds=audio.size / SAMPLE_RATE)
