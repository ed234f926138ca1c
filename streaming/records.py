"""Plain records that flow out of the pipeline: words, captions and the event log form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognised word with its session-clock times in seconds."""

    text: str
    start: float
    end: float
    probability: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The event-log form of the word."""
        return {"text": self.text, "start": round(self.start, 3), "end": round(self.end, 3)}


@dataclass(frozen=True)
class Caption:
    """A caption line: partial captions are replaced by the final one with the same id."""

    id: str
    final: bool
    words: tuple[Word, ...]
    speaker: str | None = None
    emitted: float = 0.0
    revised: bool = False  # a second, long-window pass replaced the first final

    @property
    def start(self) -> float:
        """Start of the first word."""
        return self.words[0].start if self.words else 0.0

    @property
    def end(self) -> float:
        """End of the last word."""
        return self.words[-1].end if self.words else 0.0

    @property
    def text(self) -> str:
        """The caption's words joined with single spaces."""
        return " ".join(w.text for w in self.words)

    def to_event(self) -> dict[str, Any]:
        """The event-log form (design.md section 6)."""
        return {
            "type": "caption",
            "id": self.id,
            "final": self.final,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
            "speaker": self.speaker,
            "words": [w.to_dict() for w in self.words],
            "emitted": round(self.emitted, 3),
            **({"revised": True} if self.revised else {}),
        }


@dataclass(frozen=True)
class Notice:
    """Something a person should know about the session itself (a gap, a bad input)."""

    level: str
    message: str
    at: float
    emitted: float = 0.0

    def to_event(self) -> dict[str, Any]:
        """The event-log form."""
        return {
            "type": "notice",
            "level": self.level,
            "message": self.message,
            "at": round(self.at, 3),
            "emitted": round(self.emitted, 3),
        }


def caption_from_event(event: dict[str, Any]) -> Caption:
    """Rebuild a caption from its event-log form."""
    words = tuple(
        Word(text=w["text"], start=float(w["start"]), end=float(w["end"]))
        for w in event.get("words", [])
    )
    return Caption(
        id=str(event["id"]),
        final=bool(event["final"]),
        words=words,
        speaker=event.get("speaker"),
        emitted=float(event.get("emitted", 0.0)),
        revised=bool(event.get("revised", False)),
    )
