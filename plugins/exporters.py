"""Exporters: a session's captions and events as SRT, WebVTT, JSON or Markdown."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ..streaming.clock import format_clock
from ..streaming.records import Caption, Word, latest_events

LINE_CHARS = 32  # DCMP caption line length
MAX_LINES = 2  # BBC: at most two lines on screen
MAX_CUE_S = 7.0
GAP_S = 1.0


@dataclass(frozen=True)
class SessionExport:
    """Everything an exporter may use from one session."""

    meta: dict[str, Any]
    captions: list[Caption]
    events: list[dict[str, Any]]
    speaker_names: dict[str, str] = field(default_factory=dict)
    minutes: dict[str, Any] | None = None  # summary, decisions, action_items (assistant)

    def latest(self, kind: str) -> list[dict[str, Any]]:
        """The last version of each event of ``kind`` (same id replaces), in time order."""
        return sorted(latest_events(self.events, kind), key=lambda e: e.get("start", 0.0))

    def tone_at(self, start: float, end: float) -> dict[str, Any] | None:
        """The tone flag (other than neutral) on speech between ``start`` and ``end``."""
        for flag in self.latest("emotion"):
            if flag["label"] != "neutral" and flag["start"] < end and flag["end"] > start:
                return flag
        return None


class Exporter(Protocol):
    """Turns a session into one document."""

    suffix: str

    def render(self, session: SessionExport) -> str:
        """The document text."""
        ...


@dataclass(frozen=True)
class Cue:
    """A subtitle cue: at most two short lines of one speaker's words."""

    start: float
    end: float
    lines: list[str]
    speaker: str | None


def cues(captions: Iterable[Caption]) -> list[Cue]:
    """Regroup final captions into readable cues (32-character lines, two lines, 7 s)."""
    out: list[Cue] = []
    words: list[Word] = []
    speaker: str | None = None

    def close() -> None:
        if words:
            text = " ".join(w.text for w in words)
            lines = textwrap.wrap(text, LINE_CHARS) or [text]
            out.append(
                Cue(words[0].start, max(words[-1].end, words[0].start + 0.5), lines, speaker)
            )
            words.clear()

    for caption in captions:
        for word in caption.words:
            candidate = " ".join([*(w.text for w in words), word.text])
            if words and (
                caption.speaker != speaker
                or word.start - words[-1].end > GAP_S
                or word.end - words[0].start > MAX_CUE_S
                or len(textwrap.wrap(candidate, LINE_CHARS)) > MAX_LINES
            ):
                close()
            if not words:
                speaker = caption.speaker
            words.append(word)
            if word.text.endswith((".", "?", "!")) and word.end - words[0].start > 1.0:
                close()
    close()
    # Cues must not overlap on screen.
    for i in range(len(out) - 1):
        if out[i].end > out[i + 1].start:
            out[i] = Cue(out[i].start, out[i + 1].start, out[i].lines, out[i].speaker)
    return out


def _timestamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cue_text(cue: Cue) -> list[str]:
    lines = list(cue.lines)
    if cue.speaker:
        lines[0] = f"{cue.speaker}: {lines[0]}"
    return lines


class SrtExporter:
    """SubRip subtitles."""

    suffix = ".srt"

    def render(self, session: SessionExport) -> str:
        """Numbered cues with ``HH:MM:SS,mmm`` times."""
        blocks = []
        for n, cue in enumerate(cues(session.captions), 1):
            times = f"{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}"
            blocks.append("\n".join([str(n), times, *_cue_text(cue)]))
        return "\n\n".join(blocks) + ("\n" if blocks else "")


class VttExporter:
    """WebVTT captions."""

    suffix = ".vtt"

    def render(self, session: SessionExport) -> str:
        """A WEBVTT header and cues, speakers as voice spans."""
        blocks = ["WEBVTT"]
        for cue in cues(session.captions):
            times = f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}"
            lines = list(cue.lines)
            if cue.speaker:
                lines[0] = f"<v {cue.speaker}>{lines[0]}"
            blocks.append("\n".join([times, *lines]))
        return "\n\n".join(blocks) + "\n"


class JsonExporter:
    """Everything: session metadata, final captions with words, and the whole event log."""

    suffix = ".json"

    def render(self, session: SessionExport) -> str:
        """One JSON document."""
        doc = {
            "session": session.meta,
            **({"minutes": session.minutes} if session.minutes is not None else {}),
            "speaker_names": session.speaker_names,
            "captions": [c.to_event() for c in session.captions],
            "speakers": session.latest("speaker"),
            "tones": session.latest("emotion"),
            "sounds": session.latest("sound"),
            "events": session.events,
        }
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


class MarkdownExporter:
    """A readable transcript with times, speakers, tone flags and sounds."""

    suffix = ".md"

    def render(self, session: SessionExport) -> str:
        """Title, when it happened, notices, then the transcript one paragraph per turn."""
        meta = session.meta
        created = datetime.fromtimestamp(float(meta.get("created", 0)), UTC)
        lines = [
            f"# {meta.get('title', 'Meeting')}",
            "",
            f"Recorded {created:%Y-%m-%d %H:%M} UTC from {meta.get('source', '?')}.",
            "",
        ]
        notices = [e for e in session.events if e.get("type") == "notice"]
        for notice in notices:
            lines.append(
                f"> **{notice['level']}** at [{format_clock(notice['at'])}]: {notice['message']}"
            )
        if notices:
            lines.append("")
        if session.minutes is not None:
            lines += _minutes_markdown(session.minutes)
        lines += ["## Transcript", ""]
        speaker: object = object()
        paragraph: list[str] = []
        start = 0.0
        sounds = [s for s in session.latest("sound") if s.get("final")]
        toned: set[str] = set()
        for caption in session.captions:
            while sounds and sounds[0]["start"] <= caption.start:
                if paragraph:
                    lines += [" ".join(paragraph), ""]
                    paragraph, speaker = [], object()
                sound = sounds.pop(0)
                lines += [f"[{format_clock(sound['start'])}] {sound['caption']}", ""]
            if caption.speaker != speaker or (paragraph and caption.start - start > 30):
                if paragraph:
                    lines += [" ".join(paragraph), ""]
                speaker, start, paragraph = caption.speaker, caption.start, []
                who = f" **{caption.speaker}**" if caption.speaker else ""
                paragraph.append(f"[{format_clock(caption.start)}]{who}")
            tone = session.tone_at(caption.start, caption.end)
            if tone is not None and tone["turn"] not in toned:  # once per flagged turn
                toned.add(tone["turn"])
                paragraph.append(f"_({tone['label']})_")
            paragraph.append(caption.text)
        if paragraph:
            lines += [" ".join(paragraph), ""]
        for sound in sounds:
            lines += [f"[{format_clock(sound['start'])}] {sound['caption']}", ""]
        return "\n".join(lines)


def _minutes_markdown(minutes: dict[str, Any]) -> list[str]:
    """Summary, decisions and action items as Markdown sections."""
    out = ["## Summary", ""]
    out += [f"- {item}" for item in minutes.get("summary") or ["(nothing to summarise)"]]
    out += ["", "## Decisions", ""]
    out += [f"- {item}" for item in minutes.get("decisions") or ["(none recorded)"]]
    out += ["", "## Action items", ""]
    actions = minutes.get("action_items") or []
    for a in actions:
        due = f" — due {a['due']}" if a.get("due") else ""
        out.append(f"- [{format_clock(a['said_at'])}] **{a['owner']}**: {a['task']}{due}")
    if not actions:
        out.append("- (none)")
    return [*out, ""]
