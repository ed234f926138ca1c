"""What makes a line worth a late joiner's eye: tasks, decisions, numbers and dates.

Used to pick the lines where action items may be (``COMMITMENT``) and the key moments
a catch-up lists under its summary (:func:`key_moments`).
"""

from __future__ import annotations

import re

from .clauses import TASK_VERBS
from .transcript import Line

COMMITMENT = re.compile(
    r"\b(?:I'll|I will|I can|I'm going to|I am going to|we'll|we will|can you|could you|"
    r"would you|will you|please|ask \w+ to|let's have)\b"
    rf"|(?:^|[.!?,]\s+)(?:{TASK_VERBS})\b",  # "Send me a proposal by ...", "..., send me"
    re.IGNORECASE,
)
DECISION = re.compile(
    r"\b(?:decision|decided|decide|agreed|approved|we keep|we go with|let's go with|"
    r"the plan is|final)\b",
    re.IGNORECASE,
)
WHEN_OR_HOW_MUCH = re.compile(
    r"\d|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|"
    r"march|april|may|june|july|august|september|october|november|december|tomorrow|"
    r"tonight|today|next week|end of the \w+|percent|thousand|million|hundred)\b",
    re.IGNORECASE,
)


def salience(line: Line) -> int:
    """A small score: decisions and tasks count 2, numbers and dates 1 each (up to 3)."""
    if line.sound:
        return 0
    score = 2 * bool(DECISION.search(line.text)) + 2 * bool(COMMITMENT.search(line.text))
    score += min(3, len(WHEN_OR_HOW_MUCH.findall(line.text)))
    return score + bool(line.tone)


def key_moments(lines: list[Line], top: int = 5) -> list[Line]:
    """The ``top`` most salient lines (earlier first on ties), in time order."""
    ranked = sorted(
        (line for line in lines if salience(line) > 0),
        key=lambda line: (-salience(line), line.start),
    )
    return sorted(ranked[:top], key=lambda line: line.start)
