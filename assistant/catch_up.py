"""Catch-up questions: since a time, over the last minutes, or about a topic.

"What did I miss since 10:40?", "... in the last 5 minutes?" (or seconds, or hours),
"... about the cloud costs?"
Questions come with their numbers in digits (``written_numbers``): "the last forty five
minutes" is read as "the last 45 minutes"; counts of three and under stay words.
"""

from __future__ import annotations

import re

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
_SINCE = re.compile(r"\bsince\s+((?:\d+:)?\d{1,2}:\d{2})\b", re.IGNORECASE)
_LAST = re.compile(
    r"\b(?:last|past)\s+(?:(\d+|an?|one|two|three)\s+)?"
    r"(seconds?|minutes?|hours?)\b",
    re.IGNORECASE,
)
_ABOUT = re.compile(
    r"\b(?:miss|missed|said|say|discussed|talked|happened|catch me up|fill me in)\b"
    r".*?\b(?:about|on|regarding)\s+(?P<topic>[^?!.]+)",
    re.IGNORECASE,
)
_GENERAL = frozenset(  # words of a question about the meeting as a whole
    [
        "what",
        "whats",
        "what's",
        "did",
        "do",
        "does",
        "i",
        "we",
        "you",
        "miss",
        "missed",
        "was",
        "were",
        "is",
        "are",
        "has",
        "have",
        "been",
        "be",
        "said",
        "say",
        "talked",
        "talk",
        "discussed",
        "discuss",
        "happened",
        "happening",
        "happen",
        "going",
        "on",
        "so",
        "far",
        "the",
        "a",
        "this",
        "meeting",
        "call",
        "it",
        "about",
        "up",
        "catch",
        "me",
        "summary",
        "summarise",
        "summarize",
        "sum",
        "give",
        "main",
        "points",
        "tell",
        "everything",
        "anything",
        "can",
        "could",
        "please",
    ]
)
_WINDOW_WORDS = frozenset(["in", "from", "during", "over", "for", "then"])
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}  # left as words
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}  # seconds, minutes, hours


def clock_seconds(text: str) -> float | None:
    """Seconds from ``mm:ss`` or ``h:mm:ss``; None if ``text`` is not such a time."""
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)


def catch_up_start(question: str, now: float) -> float | None:
    """Where a catch-up question's window starts (meeting time), or None for other questions.

    A question about nothing in particular ("what did I miss?", "what was said?") is a
    catch-up from the start.
    """
    since = _SINCE.search(question)
    if since:
        return clock_seconds(since.group(1))
    last = _LAST.search(question)
    if last:
        count, unit = last.groups()
        amount = int(count) if count and count.isdigit() else _COUNTS.get((count or "a").lower(), 1)
        return max(0.0, now - amount * _UNIT_SECONDS[unit[0].lower()])
    words = {w.lower() for w in re.findall(r"[A-Za-z']+", question)}
    return 0.0 if words <= _GENERAL else None


def catch_up_topic(question: str) -> str | None:
    """What a catch-up about a topic asks about ("what did I miss about the budget?")."""
    found = _ABOUT.search(question)
    if found is None or _SINCE.search(question) or _LAST.search(question):
        return None
    topic = found.group("topic").strip()
    return topic if set(re.findall(r"[a-z']+", topic.lower())) - _GENERAL else None


def plain_catch_up(question: str) -> bool:
    """Whether ``question`` asks only what was said in a window ("what did I miss since 10:40?").

    Such a question says nothing its window does not: the model is given the window alone.
    """
    window = _SINCE.search(question) or _LAST.search(question)
    if window is None:
        return False
    rest = question[: window.start()] + question[window.end() :]
    words = {w.lower() for w in re.findall(r"[A-Za-z']+", rest)}
    return words <= _GENERAL | _WINDOW_WORDS
