"""Rolling audio windows on the session clock, tagged with absolute time markers.

A window is the stretch of audio an engine looks at in one update. Its markers are
the absolute session seconds (every ``MARKER_INTERVAL_S``) that fall inside it, so a
model that reads time markers (the audio-LLM tier) sees the same time wherever the
window starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .clock import SAMPLE_RATE

MARKER_INTERVAL_S = 2.0


@dataclass(frozen=True)
class AudioWindow:
    """A view of session audio from ``start_sample`` on (float32, 16 kHz mono)."""

    start_sample: int
    audio: np.ndarray

    @property
    def start(self) -> float:
        """Session seconds of the first sample."""
        return self.start_sample / SAMPLE_RATE

    @property
    def end(self) -> float:
        """Session seconds one past the last sample."""
        return (self.start_sample + self.audio.size) / SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.audio.size / SAMPLE_RATE

    @property
    def markers(self) -> list[float]:
        """Absolute session times (multiples of the marker interval) inside the window."""
        first = math.ceil(self.start / MARKER_INTERVAL_S)
        last = math.floor(self.end / MARKER_INTERVAL_S)
        return [k * MARKER_INTERVAL_S for k in range(first, last + 1) if k > 0]


class RollingWindow:
    """Audio from a movable start up to the newest sample; memory bounded by trimming."""

    def __init__(self, capacity_s: float = 60.0) -> None:
        self._buffer = np.zeros(int(capacity_s * SAMPLE_RATE), dtype=np.float32)
        self._start = 0  # session sample index of _buffer[0]
        self._size = 0

    @property
    def start_sample(self) -> int:
        """Session sample index of the oldest sample kept."""
        return self._start

    @property
    def end_sample(self) -> int:
        """Session sample index one past the newest sample."""
        return self._start + self._size

    def append(self, samples: np.ndarray) -> None:
        """Add samples at the end (float32 in [-1, 1])."""
        n = samples.size
        if self._size + n > self._buffer.size:
            # Over capacity: the oldest audio falls off (the caller trims long before).
            self.trim_to(self.end_sample + n - self._buffer.size)
        self._buffer[self._size : self._size + n] = samples
        self._size += n

    def trim_to(self, sample: int) -> None:
        """Drop everything before session sample ``sample``."""
        cut = min(max(0, sample - self._start), self._size)
        if cut:
            self._buffer[: self._size - cut] = self._buffer[cut : self._size]
            self._size -= cut
            self._start += cut

    def skip_to(self, sample: int) -> None:
        """Start an empty window at ``sample`` (used when a source starts mid-session)."""
        self._start, self._size = sample, 0

    def window(self) -> AudioWindow:
        """The current window (a copy, safe to hand to another thread)."""
        return AudioWindow(self._start, self._buffer[: self._size].copy())
