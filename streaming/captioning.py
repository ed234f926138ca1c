"""Turn a window recogniser plus VAD into a live caption stream.

The adapter re-recognises the uncommitted audio every ``step_s`` of speech, shows
the result as a partial caption at once, and commits words two hypotheses agree on
(:class:`CaptionCommitter`). When the VAD says an utterance ended, one last pass
makes everything final. Decisions depend only on the session clock, never on wall
time, so a file replayed fast gives the same captions as one replayed live.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..plugins.base import RecognizerCapabilities, WindowRecognizer
from .clock import SAMPLE_RATE
from .committer import CaptionCommitter
from .records import Caption, Word
from .windows import RollingWindow


@dataclass(frozen=True)
class StreamingSettings:
    """How often to update and how much audio one update may look at."""

    step_s: float = 0.6
    preroll_s: float = 0.8
    holdback_s: float = 1.0
    max_pending_s: float = 2.6
    trim_after_s: float = 8.0
    keep_s: float = 3.0
    context_s: float = 3.0


class StreamingCaptioner:
    """Live captions from a window recogniser: push audio and VAD edges, get captions."""

    def __init__(
        self, recognizer: WindowRecognizer, settings: StreamingSettings | None = None
    ) -> None:
        self.recognizer = recognizer
        self.settings = settings or StreamingSettings()
        base = recognizer.capabilities
        self.capabilities = RecognizerCapabilities(
            streaming=True,
            partials=True,
            word_timestamps=base.word_timestamps,
            languages=base.languages,
        )
        # Whisper's own 30 s window bounds what one update may ever look at.
        self._window = RollingWindow(capacity_s=30.0)
        self._committer = CaptionCommitter()
        self._in_window: list[Word] = []  # committed words inside the window
        self._in_speech = False
        self._last_update = 0
        self._next_id = 1
        self._open_id: str | None = None
        self._shown: tuple[Word, ...] = ()
        self.updates = 0

    @property
    def clock_sample(self) -> int:
        """Session sample index one past the newest audio pushed."""
        return self._window.end_sample

    def start_at(self, sample: int) -> None:
        """Begin at a session time other than zero (a resumed session)."""
        self._window.skip_to(sample)
        self._last_update = sample

    def push_audio(self, samples: np.ndarray) -> list[Caption]:
        """Add audio (float32 16 kHz mono); returns the caption updates it caused."""
        return self.update() if self.append(samples) else []

    def append(self, samples: np.ndarray) -> bool:
        """Add audio without recognising; True when an update is due (call :meth:`update`)."""
        self._window.append(samples)
        if not self._in_speech:
            self._trim_idle()
            return False
        return self._window.end_sample - self._last_update >= int(
            self.settings.step_s * SAMPLE_RATE
        )

    def speech_started(self) -> None:
        """The VAD heard speech begin (the pre-roll keeps its first syllable)."""
        self._in_speech = True
        self._last_update = self._window.end_sample

    def speech_stopped(self) -> list[Caption]:
        """The VAD heard the utterance end: make all of it final."""
        if not self._in_speech:
            return []
        self._in_speech = False
        window = self._window.window()
        words = self.recognizer.transcribe(window.audio, window.start, self._prefix())
        self.updates += 1
        final = self._committer.flush(words)
        self._in_window += final
        out = self._emit(final, [])
        self._trim_idle()
        return out

    def finish(self) -> list[Caption]:
        """The audio ended: finalise whatever is still open."""
        return self.speech_stopped()

    def update(self) -> list[Caption]:
        """Re-recognise the uncommitted audio: new partials, and words agreed on become final."""
        self._last_update = self._window.end_sample
        window = self._window.window()
        words = self.recognizer.transcribe(window.audio, window.start, self._prefix())
        self.updates += 1
        agreed = self._committer.insert(words, horizon=window.end - self.settings.holdback_s)
        # A reader should not wait long for a final: words that have not settled
        # max_pending_s after they were said are committed as last heard.
        agreed += self._committer.commit_until(window.end - self.settings.max_pending_s)
        self._in_window += agreed
        out = self._emit(agreed, self._committer.tentative)
        if window.duration > self.settings.trim_after_s:
            self._trim_committed(window.end - self.settings.keep_s)
            if not self._in_window:  # long audio with no words in it (music, noise)
                self._window.trim_to(round((window.end - self.settings.keep_s) * SAMPLE_RATE))
        return out

    def _trim_committed(self, target: float, *, at_least_one: bool = True) -> None:
        """Drop committed audio from the window, cutting at a committed word's end."""
        done = [w for w in self._in_window if w.end <= target]
        if not done and at_least_one:
            done = self._in_window
        if not done:
            return
        cut = done[-1].end
        self._window.trim_to(round(cut * SAMPLE_RATE))
        self._in_window = [w for w in self._in_window if w.end > cut]

    def _trim_idle(self) -> None:
        """Between utterances keep the last words heard (context) and the pre-roll only."""
        end = self._window.end_sample / SAMPLE_RATE
        self._trim_committed(end - self.settings.context_s, at_least_one=False)
        if not self._in_window:
            self._trim_to_preroll()

    def _trim_to_preroll(self) -> None:
        preroll = self._window.end_sample - int(self.settings.preroll_s * SAMPLE_RATE)
        self._window.trim_to(max(preroll, round(self._committer.committed_end * SAMPLE_RATE)))

    def _prefix(self) -> str:
        return " ".join(w.text for w in self._in_window)

    def _emit(self, final: list[Word], pending: list[Word]) -> list[Caption]:
        out: list[Caption] = []
        if final or (self._open_id and not pending):
            out.append(Caption(self._take_id(), True, tuple(final)))
            self._open_id, self._shown = None, ()
        if pending and tuple(pending) != self._shown:
            self._shown = tuple(pending)
            out.append(Caption(self._take_id(), False, self._shown))
        return out

    def _take_id(self) -> str:
        if self._open_id is None:
            self._open_id = f"c{self._next_id}"
            self._next_id += 1
        return self._open_id
