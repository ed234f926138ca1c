"""The meeting's people, as whoever started the session listed them (an invite's names).

Captions spell a name as it sounded ("Malek" for Malik); given the people in the
meeting, a heard name one or two letters from one of theirs is written their way. A
word is taken for a name only where Whisper writes one: capitalised inside a sentence,
or said to someone at a sentence's start ("Malek, can you ..."), so "Data is ready"
stays as it is when Dana is in the meeting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

MAX_NAMES = 50
_WORD = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)$")


def parse_people(text: str) -> list[str]:
    """Names from "Kevin, Laura, Malik" (commas or semicolons); a clear error otherwise."""
    names = [" ".join(part.split()) for part in re.split(r"[,;]", text)]
    names = [name for name in names if name]
    if not names:
        raise ValueError('give the meeting\'s people as names, e.g. "Kevin, Laura, Malik"')
    for name in names:
        if len(name) > 40 or not re.fullmatch(r"[^\W\d_][\w .'-]*", name):
            raise ValueError(f"{name!r} is not a name (letters, spaces, - and ' only)")
    if len(names) > MAX_NAMES:
        raise ValueError(f"at most {MAX_NAMES} people in a meeting, not {len(names)}")
    return list(dict.fromkeys(names))


def first_names(people: Iterable[str]) -> list[str]:
    """What the meeting calls people: "Malik Haddad" is "Malik"."""
    return list(dict.fromkeys(name.split()[0] for name in people))


def spelled_as_given(word: str, people: list[str]) -> str | None:
    """The one name of ``people`` that ``word`` is a mishearing of, if there is one.

    The same first letter and at most one letter off (two for names of eight letters or
    more: "Georgia" is not George); never a name of the meeting itself.
    """
    if word in people:
        return None
    allowed = 2 if len(word) >= 8 else 1
    close = [
        name
        for name in people
        if name[0] == word[0] and Levenshtein.distance(word.lower(), name.lower()) <= allowed
    ]
    return close[0] if len(close) == 1 else None


def respell_names(text: str, people: list[str]) -> str:
    """``text`` with each heard name that is close to one of ``people`` written their way."""
    if not people:
        return text

    def mend(match: re.Match[str]) -> str:
        word = match.group(0)
        at_start = _SENTENCE_START.search(text, 0, match.start()) is not None
        said_to = text.startswith(",", match.end())
        if at_start and not said_to:
            return word
        return spelled_as_given(word, people) or word

    return _WORD.sub(mend, text)
