"""Action items: who will do what, by when, and when it was said — from the cached meeting."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..streaming.clock import format_clock
from .memory import CITATION, MeetingMemory, line_at
from .transcript import Transcript

_OBJECT = re.compile(r"\{[^{}]*\}")

ACTIONS_PROMPT = (
    "\nList every action item in the meeting so far: a task that someone agreed to do, "
    "offered to do, or was asked to do. Write one JSON object per line with the keys "
    '"owner" (the person\'s name as said in the meeting), "task", "due" (as said, or "" if '
    'no time was given) and "said_at" (the [mm:ss] time of the line where it was agreed). '
    "Write nothing else. If there are no action items, write []."
    "<|im_end|>\n<|im_start|>assistant\n"
)


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
    """Ask the model for the action items and keep those that point at a real line."""
    tail = transcript.lines()[memory.lines_in_prefix :]
    suffix = "".join(line.render() + "\n" for line in tail) + ACTIONS_PROMPT
    text = "".join(memory.llm.complete(suffix, max_tokens=600))
    return parse_action_items(text, transcript)


def parse_action_items(text: str, transcript: Transcript) -> list[ActionItem]:
    """Action items from the model's JSON lines; each ``said_at`` snapped to a real line."""
    lines = transcript.lines()
    items: list[ActionItem] = []
    for raw in _OBJECT.findall(text):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            continue
        owner, task = str(data.get("owner", "")).strip(), str(data.get("task", "")).strip()
        match = CITATION.search(
            f"[{data.get('said_at', '')}]".replace("[[", "[").replace("]]", "]")
        )
        if not owner or not task or match is None:
            continue
        hours, minutes, seconds = match.groups()
        at = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
        line = line_at([ln for ln in lines if not ln.sound], at)
        if line is None:  # a time the meeting does not have: not trusted
            continue
        item = ActionItem(owner, task, str(data.get("due", "") or "").strip(), round(line.start, 2))
        if item not in items:
            items.append(item)
    return items
