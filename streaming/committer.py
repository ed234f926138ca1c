"""The commit policy: decide which recognised words are final (LocalAgreement-2).

Each update re-recognises the audio after the committed text. A word becomes final
once two consecutive hypotheses agree on it (and on every word before it) and it
ends safely before the newest audio; the rest stays partial. This is pure logic
over word lists, testable without a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from .records import Word

_NON_WORD = re.compile(r"[^\w']+")


def word_key(text: str) -> str:
    """Compare words by their letters and digits only, ignoring case and punctuation."""
    return _NON_WORD.sub("", text.lower())


class CaptionCommitter:
    """LocalAgreement-2 over successive hypotheses of the words after the committed text."""

    def __init__(self) -> None:
        self._committed_end = 0.0
        self._tentative: list[Word] = []

    @property
    def tentative(self) -> list[Word]:
        """Words seen in the latest hypothesis but not yet agreed on."""
        return list(self._tentative)

    @property
    def committed_end(self) -> float:
        """End time of the last committed word."""
        return self._committed_end

    def insert(self, hypothesis: Sequence[Word], horizon: float | None = None) -> list[Word]:
        """Take a new hypothesis; return the words that just became final.

        Words ending after ``horizon`` (the newest audio, less a margin) stay partial
        even when agreed: the speaker may still be in the middle of them.
        """
        fresh = self._in_order(hypothesis)
        agreed: list[Word] = []
        for new, old in zip(fresh, self._tentative, strict=False):
            if word_key(new.text) != word_key(old.text):
                break
            if horizon is not None and new.end > horizon:
                break
            agreed.append(new)
        self._tentative = fresh[len(agreed) :]
        self._remember(agreed)
        return agreed

    def flush(self, hypothesis: Sequence[Word] | None = None) -> list[Word]:
        """End of an utterance: everything pending (or in a last hypothesis) becomes final."""
        words = self._in_order(hypothesis) if hypothesis is not None else self._tentative
        self._tentative = []
        self._remember(words)
        return words

    def commit_until(self, cutoff: float) -> list[Word]:
        """Make pending words that end before ``cutoff`` final (agreement never came)."""
        n = 0
        while n < len(self._tentative) and self._tentative[n].end <= cutoff:
            n += 1
        forced, self._tentative = self._tentative[:n], self._tentative[n:]
        self._remember(forced)
        return forced

    def _in_order(self, hypothesis: Sequence[Word]) -> list[Word]:
        """The hypothesis' words, timed in order after the committed text.

        Cross-attention alignment sometimes collapses a run of words onto one earlier
        instant; a caption must never place a word before the words already final.
        """
        words: list[Word] = []
        floor = self._committed_end
        for word in hypothesis:
            if not word_key(word.text):
                continue
            if word.start < floor:
                word = replace(word, start=floor, end=max(word.end, floor))
            words.append(word)
            floor = word.end
        return words

    def _remember(self, words: Sequence[Word]) -> None:
        if words:
            self._committed_end = max(self._committed_end, words[-1].end)
