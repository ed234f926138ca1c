"""The meeting as time-stamped, speaker-labelled lines, built from the event stream.

``[02:04] Bob (raised voice): We can't ship on Friday.`` and ``[02:10] [phone ringing]``.
Words of final captions are given to the speaker turn they fall in (a caption can run
across a change of speaker), then joined into lines. Speakers carry the names people
gave them (``rename``), else the names the meeting itself reveals
(:mod:`.speaker_names`), else their labels. Given the meeting's people (a ``people``
event), heard names are spelled their way (:mod:`.people`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ..streaming.clock import format_clock
from .people import first_names, respell_names
from .speaker_names import names_from_address

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
    label: str | None = None  # the speaker's label (S1), whatever name it shows

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
        self._turns: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}  # set by people (`roomtone rename`)
        self.people: list[str] = []  # the meeting's people, as given (`--people`)
        self._inferred: dict[str, str] = {}  # revealed by the meeting (speaker_names)
        self.heard_until = 0.0  # the furthest session time any event has reached
        self._built: list[Line] | None = None  # every line, until the next event

    def add(self, event: dict[str, Any]) -> None:
        """Take one event (any type; the ones that do not matter are ignored)."""
        kind = event.get("type")
        self._built = None
        if kind == "caption" and event.get("final"):
            self._captions[str(event["id"])] = event
        elif kind == "sound":
            self._sounds[str(event["id"])] = event
        elif kind == "emotion":
            self._tones[str(event["turn"])] = event
        elif kind == "speaker":
            self._turns[str(event["id"])] = event
        elif kind == "name":
            self.names[str(event["speaker"])] = str(event["name"])
        elif kind == "people":  # names are inferred again, with the list
            self.people = [str(name) for name in event["names"]]
            self._inferred = {}
        self.heard_until = max(self.heard_until, float(event.get("end") or 0.0))

    def copy(self) -> Transcript:
        """An independent copy (events are not changed once sent, so they are shared)."""
        other = Transcript()
        other._captions = dict(self._captions)
        other._sounds = dict(self._sounds)
        other._tones = dict(self._tones)
        other._turns = dict(self._turns)
        other.names = dict(self.names)
        other.people = list(self.people)
        other._inferred = dict(self._inferred)
        other.heard_until = self.heard_until
        other._built = self._built  # lines are frozen: the list is never changed, only replaced
        return other

    def lines(self, since: float = 0.0, until: float = float("inf")) -> list[Line]:
        """Every line that starts within [since, until), in time order."""
        return [line for line in self._all_lines() if since <= line.start < until]

    def speaker_names(self) -> dict[str, str]:
        """Label -> name: the names people gave, else those the meeting reveals."""
        return self._names(self._speech_lines())

    def _names(self, speech: list[Line]) -> dict[str, str]:
        """Names inferred once stay (so the memory's lines do not change under it)."""
        said = [(ln.speaker, ln.text) for ln in speech]
        for label, name in names_from_address(said, first_names(self.people)).items():
            if label not in self._inferred and name not in self._inferred.values():
                self._inferred[label] = name
        return {**self._inferred, **self.names}

    def _all_lines(self) -> list[Line]:
        """Every line, built once after each event (building infers names over the meeting)."""
        if self._built is None:
            self._built = self._build_lines()
        return self._built

    def _build_lines(self) -> list[Line]:
        speech = self._speech_lines()
        names = self._names(speech)
        lines = [
            Line(
                ln.start,
                ln.end,
                ln.text,
                names.get(ln.speaker or "", ln.speaker),
                ln.tone,
                label=ln.speaker,
            )
            for ln in speech
        ]
        for sound in self._sounds.values():
            lines.append(Line(sound["start"], sound["end"], sound["caption"], sound=True))
        return sorted(lines, key=lambda line: (line.start, line.sound))

    def _speech_lines(self) -> list[Line]:
        """Lines of words by speaker label, each word in the speaker turn it falls in."""
        words = self._words()
        tones = ToneIndex(self._tones.values())
        lines: list[Line] = []
        group: list[tuple[float, float, str]] = []
        speaker: str | None = None
        for start, end, text, who in words:
            if group and (
                who != speaker
                or start - group[-1][1] > LINE_GAP_SECONDS
                or end - group[0][0] > LINE_MAX_SECONDS
            ):
                lines.append(_line(group, speaker, tones))
                group = []
            speaker = who
            group.append((start, end, text))
        if group:
            lines.append(_line(group, speaker, tones))
        people = first_names(self.people)
        if people:
            lines = [replace(ln, text=respell_names(ln.text, people)) for ln in lines]
        return lines

    def _words(self) -> list[tuple[float, float, str, str | None]]:
        """(start, end, text, speaker label) of every word of the final captions."""
        turns = sorted(self._turns.values(), key=lambda t: t["start"])
        starts = [t["start"] for t in turns]
        out = []
        for caption in self._captions.values():
            for word in caption.get("words") or []:
                middle = (word["start"] + word["end"]) / 2
                i = bisect_right(starts, middle) - 1
                inside = i >= 0 and turns[i]["end"] >= middle
                who = turns[i]["speaker"] if inside else caption.get("speaker")
                out.append((word["start"], word["end"], word["text"].strip(), who))
        return sorted(out, key=lambda w: w[:2])


class ToneIndex:
    """The tones that are not neutral, found by time without scanning them all."""

    def __init__(self, tones: Iterable[dict[str, Any]]) -> None:
        marked = sorted(
            (t["start"], t["end"], t["label"]) for t in tones if t["label"] != "neutral"
        )
        self._starts = [t[0] for t in marked]
        self._tones = marked
        self._longest = max((end - start for start, end, _ in marked), default=0.0)

    def during(self, start: float, end: float) -> str | None:
        """The earliest tone overlapping [start, end), if any."""
        first = bisect_left(self._starts, start - self._longest)
        for _, t_end, label in self._tones[first : bisect_left(self._starts, end)]:
            if t_end > start:
                return label
        return None


def _line(words: list[tuple[float, float, str]], speaker: str | None, tones: ToneIndex) -> Line:
    start, end = words[0][0], words[-1][1]
    text = " ".join(w[2] for w in words if w[2])
    return Line(start, end, text, speaker, tones.during(start, end))
