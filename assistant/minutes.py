"""Minutes: a short summary and the decisions, asked of the cached meeting; action items too."""

from __future__ import annotations

from dataclasses import dataclass, field

from .actions import ActionItem, action_items
from .grounding import cite, whole_sentences, without_bullet
from .memory import ASSISTANT_TURN, MeetingMemory, cited_lines
from .transcript import Transcript

SUMMARY_PROMPT = (
    "\nSummarise the meeting so far in three to six short bullet points for someone who "
    "missed it, each ending with the [mm:ss] time it rests on." + ASSISTANT_TURN
)
DECISIONS_PROMPT = (
    "\nList the decisions the meeting made (what was agreed, with numbers, dates and "
    "names), one per line starting with '- ' and ending with its [mm:ss] time. If no "
    "decision was made, write: None." + ASSISTANT_TURN
)


@dataclass(frozen=True)
class Minutes:
    """What a team takes away from a meeting."""

    summary: list[str]
    decisions: list[str]
    actions: list[ActionItem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "summary": self.summary,
            "decisions": self.decisions,
            "action_items": [a.to_json() for a in self.actions],
        }


def write_minutes(memory: MeetingMemory, transcript: Transcript) -> Minutes:
    """Summary, decisions and action items.

    Each bullet is cited the way answers are: every sentence ends in the [mm:ss] of the
    line it rests on (the model's own times are not trusted), a sentence cut off by the
    token limit or saying again what a bullet said goes, and a bullet that rests on no
    line of the meeting is dropped.
    """
    lines = transcript.lines()

    def bullets(prompt: str) -> list[str]:
        text = cite(whole_sentences(memory.complete(prompt, lines, max_tokens=400)), lines)
        out = []
        for raw in text.splitlines():
            item = without_bullet(raw)
            if item and cited_lines(item, lines):
                out.append(item)
        return out

    return Minutes(
        summary=bullets(SUMMARY_PROMPT),
        decisions=bullets(DECISIONS_PROMPT),
        actions=action_items(memory, transcript),
    )
