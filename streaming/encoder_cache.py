"""Incremental encoder caching: every 4 s chunk of the session encoded once, as it completes.

An encoder that encodes fixed chunks independently (MOSS-Audio's: 400 mel frames,
positions restarting in each) gives the same output for a chunk whether it is
encoded live or in an offline pass. So the session's audio is cut on a fixed grid
of the session clock (chunk ``k`` = samples ``64000 k .. 64000 (k + 1)``), each chunk
is encoded once when its last mel frame is final and kept, and only the incomplete
chunk at the end is encoded provisionally (on demand, at most once per new audio)
and replaced when it completes.

Gaps in the session clock (a sender that dropped out, a resumed session): a chunk
with missing audio has it as silence; chunks with no audio at all are skipped
(never encoded, never in the prefix: the time markers of the next chunk say how
much time passed); the log-mel front end restarts at the chunk where audio resumes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from .log_mel import HOP, MELS, StreamingLogMel

T = TypeVar("T")


class ClockError(ValueError):
    """Audio that goes back in time on the session clock."""


class EncoderCache(Generic[T]):
    """Chunks of the session encoded once, the last few hundred kept for the prefix."""

    def __init__(
        self, encode: Callable[[np.ndarray], T], chunk_frames: int = 400, keep: int = 1000
    ) -> None:
        self.encode = encode  # [128, frames] log-mel -> whatever the model needs of it
        self.chunk_frames = chunk_frames
        self.chunk_samples = chunk_frames * HOP
        self.keep = keep
        self.chunks: OrderedDict[int, T] = OrderedDict()  # chunk index -> encoding
        self.encoded = 0  # encoder calls so far (complete chunks and provisional tails)
        self._front: StreamingLogMel | None = None
        self._chunk = -1  # the chunk being filled
        self._frames = np.zeros((MELS, 0), np.float32)  # its final frames so far
        self._next_sample = 0
        self._tail: tuple[int, T] | None = None

    @property
    def next_sample(self) -> int:
        """The session sample the next audio is expected at."""
        return self._next_sample

    def feed(self, samples: np.ndarray, start_sample: int) -> list[tuple[int, T]]:
        """Take audio at ``start_sample``; return the chunks it completed, encoded."""
        samples = np.asarray(samples, np.float32).ravel()
        if start_sample < self._next_sample:
            raise ClockError(f"audio at sample {start_sample} goes back before {self._next_sample}")
        if not samples.size:
            return []
        done: list[tuple[int, T]] = []
        if self._front is None or start_sample // self.chunk_samples > self._chunk + 1:
            done += self._restart(start_sample)
        elif start_sample > self._next_sample:  # a short gap: silence fills it
            gap = np.zeros(start_sample - self._next_sample, np.float32)
            samples = np.concatenate([gap, samples])
        assert self._front is not None
        self._next_sample += samples.size
        self._tail = None
        return done + self._take(self._front.push(samples))

    def tail(self) -> tuple[int, T] | None:
        """The incomplete chunk at the end, encoded provisionally (None if it has no frames)."""
        if self._tail is not None or self._front is None:
            return self._tail
        frames = np.concatenate([self._frames, self._front.tail()], axis=1)
        frames = frames[:, : self.chunk_frames]
        if frames.shape[1] == 0:
            return None
        self.encoded += 1
        self._tail = (self._chunk, self.encode(frames))
        return self._tail

    def _restart(self, start_sample: int) -> list[tuple[int, T]]:
        """Close the chunk being filled (silence for what is missing); start afresh."""
        done: list[tuple[int, T]] = []
        if self._front is not None and self._next_sample > self._chunk * self.chunk_samples:
            end = (self._chunk + 1) * self.chunk_samples  # + 240: its last frame is final
            done += self._take(self._front.push(np.zeros(end - self._next_sample + 240)))[:1]
        self._chunk = start_sample // self.chunk_samples
        self._front = StreamingLogMel()
        self._frames = np.zeros((MELS, 0), np.float32)
        self._tail = None
        self._next_sample = self._chunk * self.chunk_samples
        lead = start_sample - self._next_sample  # silence before the audio in its chunk
        if lead:
            self._take(self._front.push(np.zeros(lead, np.float32)))
            self._next_sample = start_sample
        return done

    def _take(self, frames: np.ndarray) -> list[tuple[int, T]]:
        done: list[tuple[int, T]] = []
        while frames.shape[1]:
            room = self.chunk_frames - self._frames.shape[1]
            self._frames = np.concatenate([self._frames, frames[:, :room]], axis=1)
            frames = frames[:, room:]
            if self._frames.shape[1] == self.chunk_frames:
                done += self._complete(self._frames)
                self._chunk += 1
                self._frames = np.zeros((MELS, 0), np.float32)
        return done

    def _complete(self, frames: np.ndarray) -> list[tuple[int, T]]:
        self.encoded += 1
        encoding = self.encode(frames)
        self.chunks[self._chunk] = encoding
        while len(self.chunks) > self.keep:
            self.chunks.popitem(last=False)
        return [(self._chunk, encoding)]
