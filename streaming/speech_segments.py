"""Fine speech segments for the speaker engine: Silero VAD per 32 ms, short pauses kept.

The pipeline's VAD ends speech after 0.4 s of silence, which suits captions; speaker
changes in a meeting often come after shorter pauses (0.25 s), so speakers get their
own Silero instance that closes a segment after 0.19 s of silence and never lets
one run longer than ``max_seconds`` (a long monologue still gets labelled promptly).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from pipecat.audio.vad.silero import SileroOnnxModel

from .clock import SAMPLE_RATE

VAD_FRAME = 512  # 32 ms, what Silero takes at 16 kHz


@dataclass(frozen=True)
class SpeechSegment:
    """Speech from ``start`` to ``end`` (sample indexes on the session clock)."""

    start: int
    end: int
    audio: np.ndarray  # float32, 16 kHz

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return (self.end - self.start) / SAMPLE_RATE


class SpeechSegmenter:
    """Cuts a stream of audio into speech segments at pauses."""

    def __init__(
        self,
        *,
        start_sample: int = 0,
        on: float = 0.5,
        off: float = 0.35,
        pause_frames: int = 6,
        min_speech_frames: int = 5,
        max_seconds: float = 6.0,
    ) -> None:
        path = resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx")
        self._model = SileroOnnxModel(str(path), force_onnx_cpu=True)
        self._on, self._off = on, off
        self._pause_frames = pause_frames
        self._min_speech = min_speech_frames
        self._max_frames = int(max_seconds * SAMPLE_RATE / VAD_FRAME)
        self._pending = np.zeros(0, np.float32)
        self._next = start_sample  # session sample of the first pending sample
        self._frames: list[np.ndarray] = []  # frames of the open segment
        self._seg_start: int | None = None
        self._silent = 0

    @property
    def open_segment(self) -> SpeechSegment | None:
        """The speech heard so far in the segment still going on, if any."""
        if self._seg_start is None or not self._frames:
            return None
        voiced = self._frames[: len(self._frames) - self._silent] or self._frames
        audio = np.concatenate(voiced)
        return SpeechSegment(self._seg_start, self._seg_start + audio.size, audio)

    def feed(self, samples: np.ndarray) -> list[SpeechSegment]:
        """Segments closed by this audio (float32 16 kHz)."""
        data = np.concatenate([self._pending, samples]) if self._pending.size else samples
        closed = []
        usable = data.size - data.size % VAD_FRAME
        for i in range(0, usable, VAD_FRAME):
            frame = data[i : i + VAD_FRAME]
            prob = float(np.asarray(self._model(frame[None], SAMPLE_RATE)).reshape(-1)[0])
            segment = self._step(frame, prob)
            if segment is not None:
                closed.append(segment)
            self._next += VAD_FRAME
        self._pending = data[usable:].astype(np.float32, copy=True)
        return closed

    def finish(self) -> list[SpeechSegment]:
        """Close the open segment at the end of the input."""
        segment = self._close(trailing_silence=self._silent)
        return [segment] if segment is not None else []

    def jump_to(self, sample: int) -> list[SpeechSegment]:
        """A gap in the input: close what was open and continue at ``sample``."""
        closed = self.finish()
        self._pending = np.zeros(0, np.float32)
        self._next = sample
        self._model.reset_states()
        return closed

    def _step(self, frame: np.ndarray, prob: float) -> SpeechSegment | None:
        if self._seg_start is None:
            if prob >= self._on:
                self._seg_start, self._frames, self._silent = self._next, [frame], 0
            return None
        self._frames.append(frame)
        self._silent = self._silent + 1 if prob < self._off else 0
        if self._silent >= self._pause_frames:
            return self._close(trailing_silence=self._silent)
        if len(self._frames) >= self._max_frames:
            return self._close(trailing_silence=self._silent)
        return None

    def _close(self, trailing_silence: int) -> SpeechSegment | None:
        start, frames = self._seg_start, self._frames[: len(self._frames) - trailing_silence]
        self._seg_start, self._frames, self._silent = None, [], 0
        if start is None or len(frames) < self._min_speech:
            return None
        audio = np.concatenate(frames)
        return SpeechSegment(start, start + audio.size, audio)
