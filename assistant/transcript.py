"""The meeting as time-stamped, speaker-labelled lines, built from the event stream.

``[02:04] S2 (raised voice): We can't ship on Friday.`` and ``[02:10] [phone ringing]``.
Lines are what the assistant's memory (the LLM prefix) is made of, so a line is
*settled* — handed to memory — only once nothing can change it any more: its
captions are past the second pass's reach and the speaker has moved on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..streaming.clock import format_clock

SETTLE_SECONDS = 35.0  # revisions land ~20-28 s after speech; relabels within ~20 s
LINE_GAP_SECONDS = 2.0  # a longer pause starts a new line, even for the same speaker
LINE_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class Line:
    """One line of the meeting: a speaker's words, or a sound."""

    start: float
    end: float
    text: str
    speaker: str | None = None
    tone: str | None = None
    sound: bool = False

    def render(self) -> str:
        """The line as the assistant reads it."""
        stamp = f"[{format_clock(self.start)}]"
        if self.sound:
            return f"{stamp} {self.text}"
        who = self.speaker or "Someone"
        tone = f" ({self.tone})" if self.tone else ""
        return f"{stamp} {who}{tone}: {self.text}"


class Transcript:
    """Keeps the latest state of captions, sounds, tones and names from events."""

    def __init__(self) -> None:
        self._captions: dict[str, dict[str, Any]] = {}
        self._sounds: dict[str, dict[str, Any]] = {}
        self._tones: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}
        self.heard_until = 0.0  # the furthest session time any event has reached

    def add(self, event: dict[str, Any]) -> None:
        """Take one event (any type; the ones that do not matter are ignored)."""
        kind = event.get("type")
        if kind == "caption" and event.get("final"):
            self._captions[str(event["id"])] = event
        elif kind == "sound":
            self._sounds[str(event["id"])] = event
        elif kind == "emotion":
            self._tones[str(event["turn"])] = event
        elif kind == "name":
            self.names[str(event["speaker"])] = str(event["name"])
        self.heard_until = max(self.heard_until, float(event.get("end") or 0.0))

    def lines(self, since: float = 0.0, until: float = float("inf")) -> list[Line]:
        """Every line that starts within [since, until), in time order."""
        return [line for line in self._all_lines() if since <= line.start < until]

    def settled_lines(self) -> list[Line]:
        """The lines nothing will change any more (see ``SETTLE_SECONDS``)."""
        horizon = self.heard_until - SETTLE_SECONDS
        lines = self._all_lines()
        settled = []
        for line in lines:  # a prefix of the lines: memory appends, it never inserts
            if line.end > horizon:
                break
            settled.append(line)
        # The last settled speech line may still grow if the same speaker goes on.
        if settled and len(settled) == len(lines) and not settled[-1].sound:
            settled.pop()
        return settled

    def _all_lines(self) -> list[Line]:
        captions = sorted(
            (c for c in self._captions.values() if c.get("words")),
            key=lambda c: (c["start"], c["id"]),
        )
        lines: list[Line] = []
        current: dict[str, Any] | None = None
        for caption in captions:
            speaker = caption.get("speaker")
            if (
                current is None
                or speaker != current["speaker"]
                or caption["start"] - current["end"] > LINE_GAP_SECONDS
                or caption["end"] - current["start"] > LINE_MAX_SECONDS
            ):
                if current is not None:
                    lines.append(self._speech(current))
                current = {
                    "start": caption["start"],
                    "end": caption["end"],
                    "speaker": speaker,
                    "texts": [],
                }
            current["end"] = max(current["end"], caption["end"])
            current["texts"].append(caption["text"])
        if current is not None:
            lines.append(self._speech(current))
        for sound in self._sounds.values():
            lines.append(Line(sound["start"], sound["end"], sound["caption"], sound=True))
        return sorted(lines, key=lambda line: (line.start, line.sound))

    def _speech(self, group: dict[str, Any]) -> Line:
        speaker = group["speaker"]
        tone = next(
            (
                t["label"]
                for t in self._tones.values()
                if t["label"] != "neutral"
                and t["start"] < group["end"]
                and t["end"] > group["start"]
            ),
            None,
        )
        return Line(
            start=group["start"],
            end=group["end"],
            text=" ".join(group["texts"]),
            speaker=self.names.get(speaker, speaker) if speaker else None,
            tone=tone,
        )
