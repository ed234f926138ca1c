"""The session clock: one count of samples since the session started."""

from __future__ import annotations

SAMPLE_RATE = 16_000
"""Every frame inside roomtone is 16 kHz mono PCM."""

FRAME_SAMPLES = 320
"""Sources cut audio into 20 ms frames, the same in every mode, so results are repeatable."""


def to_seconds(samples: int) -> float:
    """Session-clock seconds for a sample index."""
    return samples / SAMPLE_RATE


def to_samples(seconds: float) -> int:
    """Sample index for session-clock seconds (rounded to the nearest sample)."""
    return round(seconds * SAMPLE_RATE)


def format_clock(seconds: float) -> str:
    """``mm:ss`` (or ``h:mm:ss`` past an hour) for showing session times to people."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"
