"""Exports in every format, with subtitle rules readers rely on."""

import itertools
import json
import re

from roomtone.plugins.exporters import (
    JsonExporter,
    MarkdownExporter,
    SessionExport,
    SrtExporter,
    VttExporter,
    cues,
)
from roomtone.streaming.records import Caption, Word


def caption(cid: str, text: str, start: float, speaker: str | None = None) -> Caption:
    ws = tuple(
        Word(t, start + i * 0.35, start + i * 0.35 + 0.3) for i, t in enumerate(text.split())
    )
    return Caption(cid, True, ws, speaker, emitted=start + 2)


CAPTIONS = [
    caption("c1", "Okay, let's get started. Thanks for joining, everyone.", 0.6),
    caption("c2", "The main topic today is the launch timeline for version three of the app.", 4.0),
    caption("c3", "Thanks, Alice.", 12.0, "S2"),
]
SESSION = SessionExport(
    {"id": 1, "title": "Launch sync", "source": "file:m.flac", "created": 0},
    CAPTIONS,
    [c.to_event() for c in CAPTIONS],
)


def test_cues_keep_lines_short_and_two_at_most_and_do_not_overlap():
    cs = cues(CAPTIONS)
    assert all(len(line) <= 32 for c in cs for line in c.lines)
    assert all(len(c.lines) <= 2 for c in cs)
    assert all(a.end <= b.start for a, b in itertools.pairwise(cs))
    assert " ".join(" ".join(c.lines) for c in cs) == " ".join(c.text for c in CAPTIONS)


def test_srt_numbering_and_times():
    srt = SrtExporter().render(SESSION)
    assert srt.startswith("1\n00:00:00,600 --> ")
    assert re.search(r"S2: Thanks, Alice\.", srt)
    assert len(re.findall(r"^\d+$", srt, re.M)) == len(cues(CAPTIONS))


def test_vtt_header_and_voice_spans():
    vtt = VttExporter().render(SESSION)
    assert vtt.startswith("WEBVTT\n\n00:00:00.600 --> ")
    assert "<v S2>Thanks, Alice." in vtt


def test_json_carries_everything():
    doc = json.loads(JsonExporter().render(SESSION))
    assert doc["session"]["title"] == "Launch sync"
    assert doc["captions"][0]["words"][0] == {"text": "Okay,", "start": 0.6, "end": 0.9}
    assert len(doc["events"]) == 3


def test_markdown_transcript_has_times_and_speakers():
    md = MarkdownExporter().render(SESSION)
    assert md.startswith("# Launch sync")
    assert "[00:00] Okay, let's get started." in md
    assert "[00:12] **S2** Thanks, Alice." in md
