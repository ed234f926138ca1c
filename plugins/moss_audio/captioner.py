"""An audio-LLM engine in the caption engine's seat of the live pipeline.

The pipeline drives a captioner (``append`` cheap on the event loop, ``update`` on the
recognition thread, ``finish`` at the end). This adapter gives an engine that turns
audio into records (:class:`~.engine.MossAudioEngine`, :class:`~.remote.RemoteMossAudioEngine`)
that seat: audio is buffered until a 4 s chunk is complete, then the engine describes
it. The model hears everything, so VAD edges change nothing; there are no partial
captions and no second pass (the chunk's reply is final).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from ...streaming.records import Record

CHUNK_SAMPLES = 64000  # 4 s


class RecordEngine(Protocol):
    """Audio in, records out (the two audio-LLM engines)."""

    name: str

    def feed(self, samples: np.ndarray, start_sample: int) -> list[Record]:
        """Records for the chunks this audio completed."""
        ...

    def finish(self) -> list[Record]:
        """Records for what is left at the end of input."""
        ...


class AudioLLMCaptioner:
    """Buffers audio to chunk boundaries and lets the engine describe each chunk."""

    recognizer: Any = None  # no second pass

    def __init__(self, engine: RecordEngine, start_sample: int = 0) -> None:
        self.engine = engine
        self.updates = 0
        self._pending: list[np.ndarray] = []
        self._pending_start = start_sample
        self._clock = start_sample

    @property
    def clock_sample(self) -> int:
        """The session sample after the last one appended."""
        return self._clock

    def start_at(self, sample: int) -> None:
        """The input resumes at ``sample`` after a gap (the engine handles the gap)."""
        self._clock = sample
        if not self._pending:
            self._pending_start = sample

    def append(self, samples: np.ndarray) -> bool:
        """Buffer audio; True once a chunk boundary has been passed."""
        if not self._pending:
            self._pending_start = self._clock
        self._pending.append(np.asarray(samples, np.float32))
        before = self._clock // CHUNK_SAMPLES
        self._clock += int(samples.size)
        return self._clock // CHUNK_SAMPLES > before

    def update(self) -> list[Record]:
        """Give the buffered audio to the engine (on the recognition thread)."""
        self.updates += 1
        if not self._pending:
            return []
        audio, start = np.concatenate(self._pending), self._pending_start
        self._pending = []
        return self.engine.feed(audio, start)

    def speech_started(self) -> None:
        """VAD edges do not matter to a model that hears everything."""

    def speech_stopped(self) -> list[Record]:
        """Nothing to flush: captions come per chunk."""
        return []

    def finish(self) -> list[Record]:
        """The rest of the audio, then the engine's last, incomplete chunk."""
        return self.update() + self.engine.finish()

    def pop_revisions(self) -> list[Any]:
        """No second pass."""
        return []
