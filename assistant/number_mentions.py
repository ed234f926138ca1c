"""The task a "who" question names by its number: "Who is on call on the 27th?".

A number or date in a question names the moment it is about more sharply than its
meaning does. Where no task clause is close to a "who" question in meaning or by its
verb, the latest clause that says the question's number is the one it asks about:
later words settle what earlier ones left open ("that leaves nobody for the 27th", then
"Relax, Kevin, Sam already volunteered for the 27th", which the 1.5B model, given the
whole meeting only, answered with the holiday rotation, or with Kevin). A number said
in more lines than ``MOST_LINES`` is not specific enough to point anywhere.
"""

from __future__ import annotations

import re

from .clauses import Clause, addressees, clauses
from .transcript import Line

MOST_LINES = 3
# "27th", "18,000", "1000", "20%" — not the parts of a clock time ("1:03", "10:40")
_NUMBER = re.compile(r"(?<![\d:.,])\d+(?:,\d{3})*(?:st|nd|rd|th)?(?![\d:])")
_SUFFIX = re.compile(r"(?:st|nd|rd|th)$")


def numbers_said(text: str) -> dict[str, str]:
    """The numbers ``text`` says, each by its bare value ("27") as written ("27th")."""
    return {_SUFFIX.sub("", n).replace(",", ""): n for n in _NUMBER.findall(text)}


def clause_saying_its_numbers(question: str, lines: list[Line]) -> Clause | None:
    """The latest task clause of ``lines`` that says a number ``question`` says.

    None where the question says no number, where more than ``MOST_LINES`` lines say
    its numbers, or where no clause in them says one.
    """
    asked = numbers_said(question).keys()
    if not asked:
        return None
    spoken = [line for line in lines if not line.sound]
    said = [
        (line, addressee)
        for line, addressee in zip(spoken, addressees(spoken), strict=True)
        if asked & numbers_said(line.text).keys()
    ]
    if len(said) > MOST_LINES:
        return None
    found = [
        clause
        for line, addressee in said
        for clause in clauses(line, addressee)
        if asked & numbers_said(clause.words).keys()
    ]
    return found[-1] if found else None
