"""Fast checks of how answers are tidied before they are cited."""

from __future__ import annotations

import pytest

from roomtone.assistant.grounding import cite, whole_sentences
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
