"""The parts of a line that give a task to someone: "I'll ...", "Ethan, can you ...".

Read without a model, so that "I" and "you" become names: action items take their
owner and due date from the clause a task is in, and a question about who took on a
task is asked with the clause closest to it, said with the owner's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .grounding import content_words
from .retrieval import similarities
from .speaker_names import NOT_NAMES
from .transcript import Line

_OPENINGS = {  # how a speaker takes a task on -> how that reads with their name
    "I'll|I will|I'm going to|I am going to": "will",
    "I can": "can",
    "we'll|we will": "said we will",
}
NAMED_ASK = r"\b(?P<named>[A-Z][a-z]+), (?:can|could|would|will) you"  # "Ethan, can you"
TASK_VERBS = (  # verbs a task is given with: "Send me a proposal by ...", "George, put together"
    "send|open|prepare|write|book|post|update|review|add|check|call|email|share|draft|"
    "publish|schedule|fix|make sure|put together|set up|submit|finish"
)
_TOLD = (  # a task told to someone, at a sentence's or a clause's start
    r"(?:^|(?<=[.!?,])\s+)(?:(?P<to>[A-Z][a-z]+),\s+)?(?i:please\s+)?"
    rf"(?P<told>(?i:{TASK_VERBS}))\s"
)
_REPORTED_VERBS = r"volunteered|offered|agreed|promised"  # "Sam already volunteered for the 27th"
_REPORTED = re.compile(rf"(?:{_REPORTED_VERBS})\b")
_REPORTED_TO = re.compile(rf"(?:{_REPORTED_VERBS})\s+to\s+")  # "agreed to book the room"
_CLAUSE_OWNER = re.compile(  # what opens a clause that gives its task to someone
    rf"\b(?P<me>{'|'.join(_OPENINGS)})\s"
    r"|\bask (?P<asked>[A-Z][a-z]+) to\s"
    rf"|\b(?P<reporter>[A-Z][a-z]+)\s+(?:already\s+|has\s+|just\s+)?(?P<reported>{_REPORTED_VERBS})\s"
    rf"|{NAMED_ASK}\s"
    rf"|{_TOLD}"
)
_CLAUSE_DUE = re.compile(
    r"\b(?:by|before|until)\s+(?P<by>[^,.;?!]+?)(?=\s+(?:and|so|but|during|because)\b|[,.;?!]|$)"
    r"|\b(?P<day>today|tonight|tomorrow(?:\s+(?:morning|afternoon|evening|at noon))?)\b",
    re.IGNORECASE,
)
LOOSE_DUE_WORDS = {"next", "this", "end", "coming", "last"}  # "next" alone says no date
SAME_ASK_SECONDS = 20  # a task asked for and taken on this close (same owner and date) is one
_OPENING_AS_SAID = [(re.compile(rf"(?:{said})\s+"), verb) for said, verb in _OPENINGS.items()]
_SENTENCE_END = re.compile(r"[.?!](?:\s|$)")
_QUESTION_WORDS = {"who", "agreed", "when", "due", "going", "will", "is", "does", "did"}
_LOOSE_END = re.compile(r",?\s+(?:and|so|but|or)$")
_WHO_DOES = re.compile(  # the task a "who" question names by its verb: "Who agreed to escalate"
    r"^\s*who\s+(?:(?:agreed|offered|promised|volunteered|said \w+|is going|was asked|has)\s+to"
    r"|will|is|was)\s+(?P<verb>[a-z]+)",
    re.IGNORECASE,
)
# no one to give a reported task to: not a name, or nobody in particular
_NO_OWNER = NOT_NAMES | {"Nobody", "Someone", "Somebody", "Who"}
_VERB_ENDING = re.compile(r"(?:ing|ed|es|s|e)$")
CONTEXT_SECONDS = 30  # what "it" in a task clause can stand for was said this shortly before
_STANDS_FOR = {"it", "them", "this", "that", "these", "those"}
_QUESTION_END = re.compile(r"[?,.;!]|\s+(?:and|by|before)\s+")


@dataclass(frozen=True)
class Clause:
    """Who a part of a line gives a task to, and its words ("I" left as said)."""

    owner: str
    words: str
    line: Line
    asked: bool  # given by someone else ("Ethan, can you", "ask Priya to")

    @property
    def task(self) -> str:
        """The words after what gives the task ("I'll", "Ethan, can you", "Sam agreed to")."""
        if _REPORTED_TO.match(self.words):
            return _REPORTED_TO.sub("", self.words, count=1)
        for opening, _ in _OPENING_AS_SAID:
            if opening.match(self.words):
                return opening.sub("", self.words, count=1)
        return self.words

    def dated(self) -> tuple[str, str]:
        """The task and the date it is due by ("" and "" where the clause says no date).

        "tell you before we" says none: a date needs a word beyond "next", "end" ...
        """
        task, due = split_due(self.task)
        if not content_words(due) - LOOSE_DUE_WORDS:
            return "", ""
        return task.strip(" ,"), due

    def as_said_of_owner(self) -> str:
        """The clause with its owner's name: "Julia will escalate it to Martin today"."""
        if _REPORTED.match(self.words):  # said of them by someone else
            return f"{self.owner} {self.words}"
        if self.asked:
            return f"{self.owner} was asked to {self.task}"
        said = next((verb for opening, verb in _OPENING_AS_SAID if opening.match(self.words)), None)
        return f"{self.owner} {said} {self.task}" if said else f"{self.owner}: {self.words}"


def clauses(line: Line, addressee: str | None = None) -> list[Clause]:
    """Each part of ``line`` that gives a task to someone.

    "I'll ask Priya to review the reports. Ethan, can you book the flights by the 15th?"
    gives (speaker, "I'll ask Priya to"), (Priya, "review the reports"), (Ethan, "book the
    flights by the 15th"): each runs to the next such part or the end of its sentence.
    A task told without a name ("Please open a pull request by Friday") is the
    ``addressee``'s (whoever answers the line), and has no owner where none is given.
    """
    found = []
    marks = list(_CLAUSE_OWNER.finditer(line.text))
    for i, mark in enumerate(marks):
        owner = mark.group("asked") or mark.group("named") or line.speaker
        start = mark.start() if mark.group("me") else mark.end()
        if mark.group("reported"):
            reporter = mark.group("reporter")
            owner = None if reporter in _NO_OWNER else reporter
            start = mark.start("reported")
        if mark.group("told"):
            to = mark.group("to")
            owner = to if to and to not in NOT_NAMES else addressee
            start = mark.start("told")
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(line.text)
        if i + 1 < len(marks) and marks[i + 1].group("asked"):
            stop = marks[i + 1].end()  # "ask Priya to" is the asker's task
        sentence_end = _SENTENCE_END.search(line.text, start, stop)
        words = line.text[start : sentence_end.start() if sentence_end else stop]
        words = _LOOSE_END.sub("", words.strip(" ,"))
        if owner and words:
            asked = not (mark.group("me") or mark.group("reported"))
            found.append(Clause(owner, words, line, asked=asked))
    return found


def split_due(text: str) -> tuple[str, str]:
    """``text`` up to the due date it says, and that date ("" where it says none)."""
    found = _CLAUSE_DUE.search(text)
    if found is None:
        return text, ""
    return text[: found.start()], found.group("by") or found.group("day")


def dated_tasks(lines: list[Line]) -> list[Clause]:
    """The clauses of ``lines`` that give someone a task by a date, in time order.

    Read without a model, so they come at once: what was said, not what was checked
    (``roomtone actions`` asks the model about each line). A task asked for and taken on
    ("Ethan, can you book the flights by the 15th?" "Sure, I'll book them by the 15th")
    is given once.
    """
    spoken = [line for line in lines if not line.sound]
    found: list[Clause] = []
    for line, addressee in zip(spoken, addressees(spoken), strict=True):
        for clause in clauses(line, addressee):
            task, due = clause.dated()
            if task and not any(
                earlier.owner == clause.owner
                and earlier.dated()[1].lower() == due.lower()
                and line.start - earlier.line.start <= SAME_ASK_SECONDS
                for earlier in found
            ):
                found.append(clause)
    return found


def closest_clause(question: str, lines: list[Line], at_least: float) -> Clause | None:
    """The clause of ``lines`` that a question is about, if one scores ``at_least`` (0-1).

    Scored by meaning (sentence embeddings of the clause's words) and by the share of the
    question's words it says (a word's first five letters, so "booking" finds "book").
    Of clauses that score the same (a task said again in the same words), the latest.
    """
    spoken = [line for line in lines if not line.sound]
    found = [
        clause
        for line, addressee in zip(spoken, addressees(spoken), strict=True)
        for clause in clauses(line, addressee)
    ]
    if not found:
        return None
    asked = _stems(content_words(question) - _QUESTION_WORDS)
    meaning = similarities(question, [Line(0.0, 0.0, clause.words) for clause in found])
    shares = [len(asked & _stems(content_words(c.words))) / max(1, len(asked)) for c in found]
    scores = [0.5 * float(sim) + 0.5 * share for sim, share in zip(meaning, shares, strict=True)]
    best = max(range(len(found)), key=lambda i: (scores[i], i))
    return found[best] if scores[best] >= at_least else None


def task_named_by_verb(question: str, lines: list[Line]) -> Clause | None:
    """The clause whose task a "who" question names by its verb and the rest of its words.

    "Who agreed to escalate the database access ticket?" is about "I will escalate it to
    Martin today": the clause's task opens with the question's verb, and at least half of
    the question's other words are said in the clause or, where its object is "it" or
    "them", in the lines of the ``CONTEXT_SECONDS`` before it (where what "it" stands for
    was said). Of such clauses the one that says most, with "it" written as the question
    names it ("I will escalate the database access ticket to Martin today"): a small
    model told "escalate it" gives the task to whoever's ticket "it" was.
    """
    asked = _WHO_DOES.match(question)
    if asked is None:
        return None
    verb = _verb_root(asked.group("verb"))
    named = _QUESTION_END.split(question[asked.end() :], maxsplit=1)[0].strip()
    wanted = _stems(content_words(named) - _QUESTION_WORDS)
    spoken = [line for line in lines if not line.sound]
    best, best_share = None, 0.5  # at least half of the other words
    for line, addressee in zip(spoken, addressees(spoken), strict=True):
        for clause in clauses(line, addressee):
            task = clause.task.split()
            if not task or _verb_root(task[0]) != verb:
                continue
            stands_for = len(task) > 1 and task[1].lower() in _STANDS_FOR
            context = [
                earlier.text
                for earlier in spoken
                if stands_for and line.start - CONTEXT_SECONDS <= earlier.start < line.start
            ]
            said = _stems(content_words(" ".join([*context, clause.words])))
            share = len(wanted & said) / len(wanted) if wanted else 1.0
            if share >= best_share:
                best, best_share = clause, share
                if stands_for and wanted:
                    pronoun = re.compile(rf"\b{re.escape(task[0])}\s+{re.escape(task[1])}\b")
                    words = pronoun.sub(f"{task[0]} {named}", clause.words, count=1)
                    best = replace(clause, words=words)
    return best


def _verb_root(word: str) -> str:
    """A verb's root, so that "booking", "books" and "book" are one: "escal", "book"."""
    return _VERB_ENDING.sub("", word.lower())[:5]


def addressees(lines: list[Line]) -> list[str | None]:
    """Whom each of ``lines`` (spoken lines, in order) is said to: who answers it."""
    return [
        nxt.speaker if nxt.speaker != line.speaker else None
        for line, nxt in zip(lines, [*lines[1:], Line(0.0, 0.0, "")], strict=True)
    ]


def _stems(words: set[str]) -> set[str]:
    return {word[:5] for word in words}
