"""Action items: who will do what, by when, and when it was said.

Found in two steps, so that a small model neither misses nor invents them: the lines
where a task can be taken on or given are picked by how people say it ("I'll ...",
"can you ...", "ask Priya to ..."); for each, the model (reading the meeting in its
cached prefix, so it knows who answered what) says whether a task is there, whose it
is and by when. A meeting where nobody says such a thing has no action items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..streaming.clock import format_clock
from .clauses import LOOSE_DUE_WORDS, NAMED_ASK, addressees, clauses, split_due
from .grounding import content_words, without_bullet
from .memory import ASSISTANT_TURN, MeetingMemory
from .retrieval import similarities
from .salience import COMMITMENT
from .transcript import Line, Transcript

CHECK_PROMPT = (
    '\nQuestion: Who takes on or gets a task in the line [{at}] {who}: "{text}"\n'
    "Write one line per task as: name | task | due (as said, or none); "
    "if nobody takes on a task there, write: no." + ASSISTANT_TURN
)
_PRONOUNS = {"i", "me", "we", "us", "you", "he", "she", "they", "someone", "owner", "none"}
_NO_DUE = {"none", "no", "-", "n/a", "not given", "unknown", "due", "not specified"}
_DEADLINE = re.compile(r"\s+(?:by|before|until)\s+(.+?)\.?$")
_ASKS = re.compile(NAMED_ASK + r"\b")
_LABEL = re.compile(r"S\d+")
_STAMP = re.compile(r"\s*\[(?:\d+:)?\d{1,2}:\d{2}\]")  # a citation the model wrote into a field
SAME_TASK = 0.6  # tasks this alike, for one owner within 20 s, are one item


@dataclass(frozen=True)
class ActionItem:
    """One task with its owner, due date and the moment it was agreed."""

    owner: str
    task: str
    due: str
    said_at: float

    def to_json(self) -> dict[str, object]:
        """The ``--json`` form (design.md section 6)."""
        return {"owner": self.owner, "task": self.task, "due": self.due, "said_at": self.said_at}

    def render(self) -> str:
        """One line for people."""
        due = f" (due {self.due})" if self.due else ""
        return f"[{format_clock(self.said_at)}] {self.owner}: {self.task}{due}"


def action_items(memory: MeetingMemory, transcript: Transcript) -> list[ActionItem]:
    """Every action item so far, in time order (each line's verdict is asked once)."""
    every = transcript.lines()
    lines = [ln for ln in every if not ln.sound]
    verdicts: dict[tuple[float, str], str] = memory.notes.setdefault("action_verdicts", {})
    items: list[ActionItem] = []
    for i, line in enumerate(lines):
        if not COMMITMENT.search(line.text):
            continue
        key = (line.start, line.text)
        if key not in verdicts:
            prompt = CHECK_PROMPT.format(
                at=format_clock(line.start), who=line.speaker or "Someone", text=line.text
            )
            verdicts[key] = memory.complete(prompt, every, max_tokens=80)
        answerer = addressees(lines[i : i + 2])[0]
        for item in parse_action_items(verdicts[key], line, answerer):
            said = next((i for i, other in enumerate(items) if same_task(item, other)), None)
            if said is None:
                items.append(item)
            elif item.due and not items[said].due:
                items[said] = item  # agreed with its due date: "Yes, by March 31st"
    return items


def parse_action_items(text: str, line: Line, answerer: str | None = None) -> list[ActionItem]:
    """Action items from the model's ``owner | task | due`` rows about ``line``.

    "I" is the line's speaker; "you" is whoever the line asks (by name, or who answers).
    Rows without a named owner or a task are dropped, and so are tasks from another line
    and a due date the line does not say (the model read them in a later line: that
    line has its own verdict). Where the model says the line holds a task, a clause it
    left out that gives someone (a name, "I" or a speaker label) a task by a date is
    one too ("I'll post the job descriptions by next Monday. Ethan, can you book the
    flights by the 15th?" is two tasks; so is Julia's "Not yet, the proposal comes
    first, and I will send you the onboarding checklist tomorrow morning", which the
    model answers with the task of the line before).
    """
    items, claimed = [], False
    for row in text.splitlines():
        row = row.strip().removeprefix("Answer:").strip()
        fields = [f.strip() for f in without_bullet(row).split("|")]
        if len(fields) < 2:
            continue
        fields = [_STAMP.sub("", field).strip() for field in fields]
        owner, task = fields[0], fields[1].rstrip(".")
        due = fields[2] if len(fields) > 2 else ""
        owner = _named(owner, line, answerer)
        if not owner or task.lower() in ("", "no", "none"):
            continue
        claimed = True
        if not content_words(task) & content_words(line.text):
            continue  # a task from another line
        due = "" if due.lower().strip(".") in _NO_DUE else due.rstrip(".")
        if not (content_words(due) - LOOSE_DUE_WORDS) & content_words(line.text):
            due = ""
        deadline = _DEADLINE.search(task)
        if not due and deadline:  # "have the estimate ready by next Wednesday"
            task, due = task[: deadline.start()], deadline.group(1)
        owner, task, due = _read_in_its_clause(owner, task, due, line, answerer)
        items.append(ActionItem(owner, task, due, round(line.start, 2)))
    return items + _left_out(items, line, answerer) if claimed else items


def _left_out(items: list[ActionItem], line: Line, answerer: str | None) -> list[ActionItem]:
    """Tasks by a date in clauses of ``line`` that none of ``items`` says.

    An item says a clause's task if it is its owner's and shares a word of it: Malik's
    "I will apply the new limit tonight ..., and I'll write the pipeline check by
    Thursday" answered with the first task alone still has the second.
    """
    found: list[ActionItem] = []
    for clause in clauses(line, answerer):
        task, due = clause.dated()
        if task and due and not any(_says(item, clause.owner, task) for item in items + found):
            found.append(ActionItem(clause.owner, task, due, round(line.start, 2)))
    return found


def _says(item: ActionItem, owner: str, task: str) -> bool:
    """Whether ``item`` is ``owner``'s ``task`` (a word of it in common)."""
    return item.owner.lower() == owner.lower() and bool(
        content_words(item.task) & content_words(task)
    )


def _read_in_its_clause(
    owner: str, task: str, due: str, line: Line, answerer: str | None
) -> tuple[str, str, str]:
    """Owner, task and due date as the part of the line that says the task gives them.

    A small model gives "I will send you the checklist" to "you" and takes a due date
    from the next sentence; the clause the task's words are in says whose it is and by
    when. A task in no clause whose due date is in one is that clause's ("Malek |
    holiday rotation | Friday" about "I will publish the schedule on the wiki by
    Friday"). A task with the due date of another clause gets its own clause's, where it
    says one. Left as the model said where no one clause holds most of the task's words
    or its due date, or where they are in different clauses and the task's says none.
    """
    parts = clauses(line, answerer)
    wanted = content_words(task)
    if not parts or not wanted:
        return owner, task, due
    said_words = [content_words(clause.words) for clause in parts]
    shares = [len(wanted & words) / len(wanted) for words in said_words]
    due_words = content_words(due)
    in_clause = [bool(due_words & words) for words in said_words]
    best = max(range(len(parts)), key=shares.__getitem__)
    if shares[best] < 0.5 or shares.count(shares[best]) > 1:
        if in_clause.count(True) != 1:
            return owner, task, due
        clause = parts[in_clause.index(True)]
        said = split_due(clause.task)[0].strip()
        return (clause.owner, said, due) if said else (owner, task, due)
    said_due = split_due(parts[best].words)[1]
    if due_words and any(in_clause) and not in_clause[best] and not said_due:
        return owner, task, due
    if said_due and not in_clause[best]:  # its own, not another clause's
        due = said_due
    return parts[best].owner, task, due


def _named(owner: str, line: Line, answerer: str | None) -> str | None:
    """The owner as a name: pronouns resolved against the line, labels kept as they are."""
    word = owner.strip().strip(".").lower()
    speaker = line.speaker or None
    if word in ("i", "me", "we", "us"):
        return speaker
    if word == "you":
        asked = _ASKS.search(line.text)
        return asked.group("named") if asked else answerer
    if word in _PRONOUNS or not word:
        return None
    return owner.strip()


def same_task(a: ActionItem, b: ActionItem) -> bool:
    """One task said twice: same owner, close in time, alike, due dates not at odds."""
    if a.owner.lower() != b.owner.lower() or abs(a.said_at - b.said_at) > 20:
        return False
    due_a, due_b = set(a.due.lower().split()), set(b.due.lower().split())
    if due_a and due_b and not due_a & due_b:  # "tomorrow morning" vs "Friday afternoon"
        return False
    probe = Line(0.0, 0.0, b.task)
    return float(similarities(a.task, [probe])[0]) >= SAME_TASK
