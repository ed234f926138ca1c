"""Plain records that flow out of the pipeline: words, captions and the event log form."""

from __future__ import annotations

from collections.abc import Iterable
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


@dataclass(frozen=True)
class Prosody:
    """How a stretch of speech sounded: level, pitch and length."""

    level_db: float  # active RMS level, dBFS
    pitch_hz: float | None  # median F0 of voiced frames; None when too little was voiced
    seconds: float


@dataclass(frozen=True)
class SpeakerTurn:
    """A stretch of speech by one speaker; a later event with the same id replaces it."""

    id: str
    speaker: str
    start: float
    end: float
    final: bool
    relabel: bool = False  # a refinement pass moved this turn to another speaker
    prosody: Prosody | None = None
    emitted: float = 0.0

    def to_event(self) -> dict[str, Any]:
        """The event-log form (design.md section 6)."""
        return {
            "type": "speaker",
            "id": self.id,
            "speaker": self.speaker,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "final": self.final,
            **({"relabel": True} if self.relabel else {}),
            "emitted": round(self.emitted, 3),
        }


@dataclass(frozen=True)
class EmotionFlag:
    """How one turn sounded, relative to that speaker's own usual voice."""

    turn: str
    speaker: str
    start: float
    end: float
    label: str
    arousal: float  # 0 calm .. 1 agitated
    valence: float  # -1 negative .. 1 positive
    emitted: float = 0.0

    def to_event(self) -> dict[str, Any]:
        """The event-log form (design.md section 6)."""
        return {
            "type": "emotion",
            "turn": self.turn,
            "speaker": self.speaker,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "label": self.label,
            "arousal": round(self.arousal, 3),
            "valence": round(self.valence, 3),
            "emitted": round(self.emitted, 3),
        }


@dataclass(frozen=True)
class SoundEvent:
    """A non-speech sound; shown once while it lasts, then closed with its end."""

    id: str
    label: str
    caption: str  # what a reader sees, e.g. "[phone ringing]"
    start: float
    end: float
    confidence: float
    final: bool
    emitted: float = 0.0

    def to_event(self) -> dict[str, Any]:
        """The event-log form (design.md section 6)."""
        return {
            "type": "sound",
            "id": self.id,
            "label": self.label,
            "caption": self.caption,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "confidence": round(self.confidence, 3),
            "final": self.final,
            "emitted": round(self.emitted, 3),
        }


def latest_events(events: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The last version of each event of ``kind`` in a log, in first-seen order.

    An event replaces the earlier one with the same id (emotion flags: the same turn).
    """
    by_key: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("type") == kind:
            by_key[str(event.get("id", event.get("turn")))] = event
    return list(by_key.values())


Record = Caption | SpeakerTurn | EmotionFlag | SoundEvent | Notice
"""Anything the pipeline publishes as an event."""
