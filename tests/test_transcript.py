"""The assistant's transcript lines, settling, citations and action-item parsing (no model)."""

import pytest

from roomtone.assistant.actions import parse_action_items
from roomtone.assistant.ask import parse_since
from roomtone.assistant.memory import cited_lines
from roomtone.assistant.transcript import SETTLE_SECONDS, Transcript


def caption(cid, start, end, text, speaker="S1"):
    words = text.split()
    step = (end - start) / len(words)
    return {
        "type": "caption",
        "id": cid,
        "final": True,
        "start": start,
        "end": end,
        "text": text,
        "speaker": speaker,
        "words": [
            {"text": w, "start": start + i * step, "end": start + (i + 1) * step}
            for i, w in enumerate(words)
        ],
    }


@pytest.fixture
def meeting() -> Transcript:
    t = Transcript()
    for event in [
        caption("c1", 1.0, 3.0, "Thanks for joining, everyone."),
        caption("c2", 3.2, 5.0, "Let's start with the launch."),
        caption("c3", 6.0, 9.0, "Bob, can you fix the bugs by Friday?", "S2"),
        {
            "type": "sound",
            "id": "s1",
            "label": "telephone",
            "caption": "[phone ringing]",
            "start": 9.5,
            "end": 12.0,
            "final": True,
        },
        caption("c4", 12.5, 15.0, "Yes, I will fix them by Friday.", "S3"),
        {
            "type": "emotion",
            "turn": "t4",
            "speaker": "S3",
            "start": 12.4,
            "end": 15.1,
            "label": "excited",
            "arousal": 0.8,
            "valence": 0.5,
        },
        {"type": "name", "speaker": "S3", "name": "Bob"},
    ]:
        t.add(event)
    return t


def test_lines_join_one_speakers_captions_and_show_tone_sounds_and_names(meeting):
    rendered = [line.render() for line in meeting.lines()]
    assert rendered == [
        "[00:01] S1: Thanks for joining, everyone. Let's start with the launch.",
        "[00:06] S2: Bob, can you fix the bugs by Friday?",
        "[00:09] [phone ringing]",
        "[00:12] Bob (excited): Yes, I will fix them by Friday.",
    ]


def test_a_revised_caption_replaces_the_earlier_final(meeting):
    meeting.add(caption("c3", 6.0, 9.0, "Bob, can you fix the box by Friday?", "S2"))
    assert "fix the box" in meeting.lines()[1].text


def test_only_lines_past_the_settling_time_go_to_memory(meeting):
    assert meeting.settled_lines() == []
    meeting.add(caption("c5", 15.0 + SETTLE_SECONDS, 16.0 + SETTLE_SECONDS, "Next topic.", "S1"))
    settled = meeting.settled_lines()
    assert [line.start for line in settled] == [1.0, 6.0, 9.5, 12.5]


def test_citations_point_at_real_lines_and_invented_times_are_dropped(meeting):
    spans = cited_lines(
        "Bob will fix the bugs by Friday [00:12], as asked at [0:07]. See [45:00].", meeting.lines()
    )
    assert spans == [(12.5, 15.0), (6.0, 9.0)]


def test_action_items_keep_only_objects_with_an_owner_a_task_and_a_real_time(meeting):
    text = (
        '{"owner": "Bob", "task": "fix the bugs", "due": "Friday", "said_at": "00:12"}\n'
        '{"owner": "Carol", "task": "invented", "due": "", "said_at": "59:00"}\n'
        '{"owner": "", "task": "nobody", "said_at": "00:06"}\n'
        "not json {at all}"
    )
    items = parse_action_items(text, meeting)
    assert [item.to_json() for item in items] == [
        {"owner": "Bob", "task": "fix the bugs", "due": "Friday", "said_at": 12.5}
    ]


@pytest.mark.parametrize(("text", "seconds"), [("10:40", 640), ("1:02:03", 3723), ("95", 95.0)])
def test_since_takes_clock_times(text, seconds):
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["ten forty", "-5", "10:4x"])
def test_a_bad_since_is_a_clear_error(text):
    with pytest.raises(ValueError, match="since"):
        parse_since(text)
