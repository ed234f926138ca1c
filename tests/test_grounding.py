"""Fast checks of how answers are tidied before they are cited."""

from __future__ import annotations

import pytest

from roomtone.assistant.grounding import cite, copied_line_at, whole_sentences
from roomtone.assistant.transcript import Line


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        # cut at the token limit in the middle of a sentence: the fragment goes
        (
            "Since 1:03, Alice set the date [01:07]. Then Carol proposed the March",
            "Since 1:03, Alice set the date [01:07].",
        ),
        ("- Nina called [01:33].\n- The team will", "- Nina called [01:33]."),
        ("Is it late? Yes [00:10] [00:12]. And", "Is it late? Yes [00:10] [00:12]."),
        # finished answers stay as they are
        ("Bob will fix the bugs by Friday [00:27].", "Bob will fix the bugs by Friday [00:27]."),
        (
            "Bob fixes the bugs [00:27]. Carol writes [01:54]",
            "Bob fixes the bugs [00:27]. Carol writes [01:54]",
        ),
        # a list cut after its next item's number (a 60-minute catch-up at 48 tokens)
        (
            "Points:\n1. Berlin costs 18,000 euros [57:59].\n2.",
            "Points:\n1. Berlin costs 18,000 euros [57:59].",
        ),
        ("- Bob fixes it [00:27].\n- ", "- Bob fixes it [00:27]."),
        # a decimal point is not a sentence's end, and a fragment alone is kept
        ("George closed 1.2 million in", "George closed 1.2 million in"),
        ("Tom | send the report | Tuesday", "Tom | send the report | Tuesday"),
    ],
)
def test_an_unfinished_last_sentence_is_dropped(written, kept):
    assert whole_sentences(written) == kept


def test_a_citation_never_lands_inside_a_number():
    lines = [
        Line(128.0, 135.0, "I closed 1.2 million dollars in new contracts.", "George"),
        Line(136.0, 140.0, "The Henderson deal slipped to next quarter.", "Dana"),
    ]
    cited = cite("George closed 1.2 million dollars in new contracts.", lines)
    assert cited == "George closed 1.2 million dollars in new contracts [02:08]."


CLOUD_COSTS = [  # dev_m01 as a --fast replay heard it
    Line(128.0, 134.0, "Right, the server cost went up by 20% this month.", "Bob"),
    Line(135.0, 139.0, "20%? Not if we more than we plan for marketing.", "Carol", "emphatic"),
    Line(148.0, 152.0, "Roughly $8,000 a month, which gets us back to the budget.", "Bob"),
]


@pytest.mark.parametrize(
    ("written", "at"),
    [
        # the 1.5B model's catch-up about the cloud costs, as it began (2026-11-30)
        (" Bob: Right, the server cost went up by 20% this month", 0),
        ("Costs rose by a fifth.\n- [02:15] Carol (emphatic): 20%? Not if we more", 23),
        # its own words, even in a line's shape, are a summary
        ("Bob: the cost rose 20% and caching brings it back to budget.", None),
        ("The server cost went up by 20% this month [02:08].", None),
        # too few words after the opening to tell yet
        (" Bob: Right, the server", None),
    ],
)
def test_a_line_written_out_again_is_found_where_it_starts(written, at):
    assert copied_line_at(written, CLOUD_COSTS) == at


def test_a_sentence_that_says_again_what_one_before_said_is_dropped():
    lines = [  # dev_m04 as a --fast replay heard it
        Line(93.0, 104.0, "Nina just texted: support received 312 tickets.", "Kevin"),
        Line(102.0, 110.0, "312. Can you add a failover test to the regression suite?", "Laura"),
    ]
    # the 1.5B model's catch-up since 1:04, as it wrote it (2026-12-01)
    written = (
        " [phone ringing] - Nina from support calls.\n"
        " [phone ringing] - Nina calls back with the number of 312 tickets about the outage.\n"
        " [phone ringing] - Nina texts the number of 312 tickets about the outage.\n"
        "Laura asks for a failover test."
    )
    kept = cite(written, lines).splitlines()
    assert len(kept) == 3 and "texts" not in " ".join(kept), kept
    assert kept[2].startswith("Laura asks for a failover test [01:42]"), kept


def test_a_time_the_model_wrote_before_a_line_is_moved_to_its_end():
    # asked live "When is the press release due?", the model copied a line, time first
    lines = [
        Line(
            18.84,
            26.24,
            "From the marketing side, we need the final screenshots by Monday "
            "the 14th, otherwise the press release slips.",
            "S3",
        ),
        Line(27.44, 29.16, "Bob, can your team fix those three bugs?", "S1"),
    ]
    written = "[00:18] S3: From the marketing side, we need the final screenshots by Monday."
    assert cite(written, lines) == (
        "S3: From the marketing side, we need the final screenshots by Monday [00:18]."
    )
