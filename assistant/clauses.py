"""The parts of a line that give a task to someone: "I'll ...", "Ethan, can you ...".

Read without a model, so that "I" and "you" become names: action items take their
owner and due date from the clause a task is in, and a question about who took on a
task is asked with the clause closest to it, said with the owner's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .grounding import content_words
from .retrieval import similarities
from .transcript import Line

_OPENINGS = {  # how a speaker takes a task on -> how that reads with their name
    "I'll|I will|I'm going to|I am going to": "will",
    "I can": "can",
    "we'll|we will": "said we will",
}
NAMED_ASK = r"\b(?P<named>[A-Z][a-z]+), (?:can|could|would|will) you"  # "Ethan, can you"
_CLAUSE_OWNER = re.compile(  # what opens a clause that gives its task to someone
    rf"\b(?P<me>{'|'.join(_OPENINGS)})\s"
    r"|\bask (?P<asked>[A-Z][a-z]+) to\s"
    rf"|{NAMED_ASK}\s"
)
_OPENING_AS_SAID = [(re.compile(rf"(?:{said})\s+"), verb) for said, verb in _OPENINGS.items()]
_SENTENCE_END = re.compile(r"[.?!](?:\s|$)")
_QUESTION_WORDS = {"who", "agreed", "when", "due", "going", "will", "is", "does", "did"}
_LOOSE_END = re.compile(r",?\s+(?:and|so|but|or)$")


@dataclass(frozen=True)
class Clause:
    """Who a part of a line gives a task to, and its words ("I" left as said)."""

    owner: str
    words: str
    line: Line
    asked: bool  # given by someone else ("Ethan, can you", "ask Priya to")

    @property
    def task(self) -> str:
        """The words after what gives the task ("I'll", "Ethan, can you")."""
        for opening, _ in _OPENING_AS_SAID:
            if opening.match(self.words):
                return opening.sub("", self.words, count=1)
        return self.words

    def as_said_of_owner(self) -> str:
        """The clause with its owner's name: "Julia will escalate it to Martin today"."""
        if self.asked:
            return f"{self.owner} was asked to {self.task}"
        said = next((verb for opening, verb in _OPENING_AS_SAID if opening.match(self.words)), None)
        return f"{self.owner} {said} {self.task}" if said else f"{self.owner}: {self.words}"


def clauses(line: Line) -> list[Clause]:
    """Each part of ``line`` that gives a task to someone.

    "I'll ask Priya to review the reports. Ethan, can you book the flights by the 15th?"
    gives (speaker, "I'll ask Priya to"), (Priya, "review the reports"), (Ethan, "book the
    flights by the 15th"): each runs to the next such part or the end of its sentence.
    """
    found = []
    marks = list(_CLAUSE_OWNER.finditer(line.text))
    for i, mark in enumerate(marks):
        owner = mark.group("asked") or mark.group("named") or line.speaker
        start = mark.start() if mark.group("me") else mark.end()
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(line.text)
        if i + 1 < len(marks) and marks[i + 1].group("asked"):
            stop = marks[i + 1].end()  # "ask Priya to" is the asker's task
        sentence_end = _SENTENCE_END.search(line.text, start, stop)
        words = line.text[start : sentence_end.start() if sentence_end else stop]
        words = _LOOSE_END.sub("", words.strip(" ,"))
        if owner and words:
            found.append(Clause(owner, words, line, asked=not mark.group("me")))
    return found


def closest_clause(question: str, lines: list[Line], at_least: float) -> Clause | None:
    """The clause of ``lines`` that a question is about, if one scores ``at_least`` (0-1).

    Scored by meaning (sentence embeddings of the clause's words) and by the share of the
    question's words it says (a word's first five letters, so "booking" finds "book").
    """
    found = [clause for line in lines if not line.sound for clause in clauses(line)]
    if not found:
        return None
    asked = _stems(content_words(question) - _QUESTION_WORDS)
    meaning = similarities(question, [Line(0.0, 0.0, clause.words) for clause in found])
    shares = [len(asked & _stems(content_words(c.words))) / max(1, len(asked)) for c in found]
    scores = [0.5 * float(sim) + 0.5 * share for sim, share in zip(meaning, shares, strict=True)]
    best = max(range(len(found)), key=scores.__getitem__)
    return found[best] if scores[best] >= at_least else None


def _stems(words: set[str]) -> set[str]:
    return {word[:5] for word in words}
