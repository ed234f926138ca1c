"""Turn a window recogniser plus VAD into a live caption stream.

The adapter re-recognises the uncommitted audio every ``step_s`` of speech, shows
the result as a partial caption at once, and commits words two hypotheses agree on
(:class:`CaptionCommitter`). When the VAD says an utterance ended, one last pass
makes everything final. Decisions depend only on the session clock, never on wall
time, so a file replayed fast gives the same captions as one replayed live.

Short windows are what keeps captions quick, but Whisper reads best with a long
window. So finals get a second pass: once about 20 s of final captions have
built up, a pause (or a 28 s limit) closes the block, and a :class:`RevisionJob`
re-recognises the whole block at once. The revised words replace the block's
captions id by id, a few seconds later, flagged ``revised``.
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

    step_s: float = 0.8
    preroll_s: float = 0.8
    holdback_s: float = 1.0
    max_pending_s: float = 2.6
    trim_after_s: float = 6.0
    keep_s: float = 2.0
    context_s: float = 2.0
    revise_after_s: float = 20.0
    revise_limit_s: float = 28.0


@dataclass(frozen=True)
class RevisionJob:
    """A block of final captions to recognise again with the whole block as context."""

    audio: np.ndarray
    offset: float
    captions: tuple[Caption, ...]


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
        # Audio since the last revision, and the final captions made from it.
        self._block = RollingWindow(capacity_s=self.settings.revise_limit_s + 4.0)
        self._block_finals: list[Caption] = []
        self._revisions: list[RevisionJob] = []
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
        self._block.skip_to(sample)
        self._last_update = sample

    def push_audio(self, samples: np.ndarray) -> list[Caption]:
        """Add audio (float32 16 kHz mono); returns the caption updates it caused."""
        return self.update() if self.append(samples) else []

    def append(self, samples: np.ndarray) -> bool:
        """Add audio without recognising; True when an update is due (call :meth:`update`)."""
        self._window.append(samples)
        self._block.append(samples)
        self._bound_block()
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
        if self._block_span() >= self.settings.revise_after_s:
            self._close_block(self._block.end_sample)
        return out

    def finish(self) -> list[Caption]:
        """The audio ended: finalise whatever is still open (and revise it)."""
        out = self.speech_stopped()
        if self._block_finals:
            self._close_block(self._block.end_sample)
        return out

    def pop_revisions(self) -> list[RevisionJob]:
        """Blocks closed since the last call; run each with the recogniser's ``revise``."""
        jobs, self._revisions = self._revisions, []
        return jobs

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

    def _bound_block(self) -> None:
        """Keep the block to what a revision needs and no longer than its limit."""
        if not self._block_finals:
            if not self._in_speech:  # no captions yet: the block starts at the pre-roll
                self._block.trim_to(self._window.start_sample)
            return
        length = self._block.end_sample - self._block.start_sample
        if length >= int(self.settings.revise_limit_s * SAMPLE_RATE):  # no pause came
            cut = round(self._committer.committed_end * SAMPLE_RATE)
            self._close_block(cut if self._in_speech else self._block.end_sample)

    def _block_span(self) -> float:
        """Seconds from the block's start to the end of its last final caption."""
        if not self._block_finals:
            return 0.0
        return self._block_finals[-1].end - self._block.start_sample / SAMPLE_RATE

    def _close_block(self, cut: int) -> None:
        """Queue the block up to session sample ``cut`` for revision; start a new one."""
        block = self._block.window()
        size = max(0, min(cut - block.start_sample, block.audio.size))
        job = RevisionJob(block.audio[:size], block.start, tuple(self._block_finals))
        self._revisions.append(job)
        self._block.trim_to(block.start_sample + size)
        self._block_finals = []

    def _trim_to_preroll(self) -> None:
        preroll = self._window.end_sample - int(self.settings.preroll_s * SAMPLE_RATE)
        self._window.trim_to(max(preroll, round(self._committer.committed_end * SAMPLE_RATE)))

    def _prefix(self) -> str:
        return " ".join(w.text for w in self._in_window)

    def _emit(self, final: list[Word], pending: list[Word]) -> list[Caption]:
        out: list[Caption] = []
        if final or (self._open_id and not pending):
            caption = Caption(self._take_id(), True, tuple(final))
            out.append(caption)
            if caption.words:
                self._block_finals.append(caption)
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


# A revised word further than this from every caption of its block is not kept: the
# first pass heard no speech there (music, noise), so the revision made it up.
_REVISION_REACH_S = 1.0
# A caption with revised words this close (given to its neighbours) is covered by the
# revision; further off, the revision skipped it and the first pass stands.
_REVISION_GAP_S = 0.3
# A revision with far fewer words than the first pass gave up part-way (Whisper
# skips a stretch it takes for no speech): the first pass stands.
_REVISION_MIN_COVERAGE = 0.6


def revised_captions(job: RevisionJob, words: list[Word]) -> list[Caption]:
    """The block's captions with the revised words put back into them, id by id.

    A word goes to the nearest caption (the one it overlaps most). Only captions
    whose text changed are returned; one with revised words close by that got none
    of them is returned empty, which removes it. One the revision skipped keeps its
    first-pass words: speech was heard there.
    """
    captions = job.captions
    first_pass = sum(len(c.words) for c in captions)
    if not captions or len(words) < _REVISION_MIN_COVERAGE * first_pass:
        return []
    buckets: list[list[Word]] = [[] for _ in captions]
    for word in words:
        gaps = [_distance(word, c) for c in captions]
        nearest = min(range(len(captions)), key=lambda i: (gaps[i], -_overlap(word, captions[i])))
        if gaps[nearest] <= _REVISION_REACH_S:
            buckets[nearest].append(word)
    changed = []
    for caption, new_words in zip(captions, buckets, strict=True):
        covered = new_words or any(_distance(w, caption) <= _REVISION_GAP_S for w in words)
        if covered and [w.text for w in new_words] != [w.text for w in caption.words]:
            revised = Caption(caption.id, True, tuple(new_words), caption.speaker, revised=True)
            changed.append(revised)
    return changed


def _overlap(word: Word, caption: Caption) -> float:
    return min(word.end, caption.end) - max(word.start, caption.start)


def _distance(word: Word, caption: Caption) -> float:
    """Seconds between a word and a caption; 0 when they overlap or touch."""
    return max(0.0, caption.start - word.end, word.start - caption.end)
