"""Speaker names the meeting itself reveals: introductions and people addressing each other.

"I'm Kevin" or "it's Julia" names the speaker; "Bob, can your team fix it?" names the
next speaker; "Thanks, Alice" names the one who just spoke. Each such moment is a vote;
a label gets the name with the most votes, each name one label. Someone who introduces
themselves and others ("I'm Kevin; Laura is here from QA and Malik from the database
team") names everyone present: when one of those names and one speaker are left over,
that speaker has it; so does the meeting's list of people where one is given. Names
people set with ``roomtone rename`` always win over these.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_NAME = r"([A-Z][a-z]+)"
_INTRODUCTION = re.compile(  # "I'm Kevin", "it's Julia", "Laura from QA here"
    rf"\b(?:I'm|I am|[Tt]his is|[Ii]t's|[Mm]y name is)\s+{_NAME}\b(?!'s)"
    rf"|{_NAME} from (?:the )?[\w ]{{1,24}}? here\b"
)
_PRESENT = re.compile(rf"\b{_NAME}(?: is)?(?: here)? from\b")  # "Malik from the database team"
_LEAD = (  # words that may come before a name said to someone: "Oh, and Carol, ..."
    r"(?:(?:and|oh|so|okay|ok|well|hey|hi|hello|thanks|thank you|welcome|sorry|yes|no|right"
    r"|great|good|relax|sure|agreed|alright|no problem)[,!]?\s+)*"
)
_ADDRESS = re.compile(rf"(?:^|[.!?]\s+|,\s+)(?i:{_LEAD}){_NAME}(?=\s*[,.!?])")
_REPLYING = re.compile(
    r"\b(?:thanks|thank you|welcome|relax|agreed|great|good|nice|yes|right|sure|exactly|sorry)\b",
    re.IGNORECASE,
)
NOT_NAMES = frozenset(
    [
        "Absolutely",
        "Afternoon",
        "Agreed",
        "All",
        "Alright",
        "Also",
        "And",
        "Anything",
        "Anyway",
        "April",
        "August",
        "Before",
        "But",
        "Cool",
        "Correct",
        "December",
        "Definitely",
        "Done",
        "Evening",
        "Everybody",
        "Everyone",
        "Exactly",
        "February",
        "Fine",
        "Folks",
        "Friday",
        "Good",
        "Great",
        "Guys",
        "He",
        "Hello",
        "Here",
        "Hey",
        "Hi",
        "Honestly",
        "Indeed",
        "It",
        "January",
        "July",
        "June",
        "Just",
        "March",
        "May",
        "Maybe",
        "Monday",
        "Morning",
        "Mostly",
        "Next",
        "Nice",
        "No",
        "Not",
        "Nothing",
        "November",
        "Now",
        "October",
        "Oh",
        "Ok",
        "Okay",
        "Perfect",
        "Please",
        "Quick",
        "Really",
        "Relax",
        "Right",
        "Saturday",
        "September",
        "She",
        "So",
        "Something",
        "Sorry",
        "Still",
        "Sunday",
        "Sure",
        "Team",
        "Thank",
        "Thanks",
        "That",
        "Then",
        "There",
        "They",
        "This",
        "Thursday",
        "Today",
        "Tomorrow",
        "Tonight",
        "True",
        "Tuesday",
        "Wait",
        "We",
        "Wednesday",
        "Welcome",
        "Well",
        "Yes",
        "Yesterday",
        "You",
    ]
)


def names_from_address(
    lines: list[tuple[str | None, str]], people: Iterable[str] = ()
) -> dict[str, str]:
    """Label -> name from (speaker label, text) lines in time order.

    ``people``: who is in the meeting (first names), as its organiser listed them.
    """
    votes: Counter[tuple[str, str]] = Counter()
    refused: set[tuple[str, str]] = set()
    present: set[str] = set(people)
    for i, (label, text) in enumerate(lines):
        if label is None:
            continue
        for match in _INTRODUCTION.finditer(text):
            name = match.group(1) or match.group(2)
            if name not in NOT_NAMES:
                votes[(label, name)] += 3
                present |= {m.group(1) for m in _PRESENT.finditer(text)} - {name, *NOT_NAMES}
        for match in _ADDRESS.finditer(text):
            name = match.group(1)
            if name in NOT_NAMES:
                continue
            refused.add((label, name))  # nobody calls themselves by name
            sentence_end = re.search(r"[.!?]", text[match.end() :])
            sentence = text[
                match.start() : match.end() + (sentence_end.end() if sentence_end else len(text))
            ]
            asks = sentence.rstrip().endswith("?")
            replying = not asks and _REPLYING.search(text[match.start() : match.start(1)])
            other = _other_speaker(lines, i, -1 if replying else +1)
            if other is not None:
                votes[(other, name)] += 1
    names: dict[str, str] = {}
    for (label, name), _count in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
        if (label, name) in refused or label in names or name in names.values():
            continue
        names[label] = name
    unnamed = {label for label, _ in lines if label is not None} - names.keys()
    left = present - set(names.values())
    leftover = [(label, name) for label in unnamed for name in left]
    if len(leftover) == 1 and leftover[0] not in refused:  # one speaker, one name
        label, name = leftover[0]
        names[label] = name
    return names


def _other_speaker(lines: list[tuple[str | None, str]], i: int, step: int) -> str | None:
    """The nearest speaker before (step -1) or after (+1) line ``i`` who is not its speaker."""
    label = lines[i][0]
    j = i + step
    while 0 <= j < len(lines):
        if lines[j][0] is not None and lines[j][0] != label:
            return lines[j][0]
        j += step
    return None
