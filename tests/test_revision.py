"""The second pass: revised words go back into the captions they correct, id by id."""

import itertools

import numpy as np
import pytest

from roomtone.streaming.captioning import RevisionJob, revised_captions
from roomtone.streaming.records import Caption

from .conftest import timed


def job(*captions: tuple[str, str]) -> RevisionJob:
    finals = tuple(Caption(i, True, tuple(timed(t))) for i, t in captions)
    return RevisionJob(np.zeros(16000, np.float32), 0.0, finals)


def reader_text(block: RevisionJob, revised: list[Caption]) -> str:
    """What a reader sees once the revision has replaced captions by id."""
    latest = {c.id: c for c in block.captions} | {c.id: c for c in revised}
    return " ".join(c.text for c in latest.values() if c.text)


def test_revised_words_replace_the_captions_they_fall_in():
    block = job(("c1", "the:0.0:0.2 third:0.2:0.5 floor:0.5:0.9"), ("c2", "review:1.5:2.0"))
    revised = revised_captions(block, timed("the:0.0:0.2 third:0.2:0.5 quarter:0.5:1.0"))
    assert [(c.id, c.text, c.revised) for c in revised] == [("c1", "the third quarter", True)]
    assert revised[0].to_event()["revised"] is True


def test_a_caption_the_revision_does_not_cover_keeps_its_words():
    block = job(("c1", "budget:0.0:0.5 review:0.5:1.0"), ("c2", "George:5.0:5.4"))
    revised = revised_captions(block, timed("budget:0.0:0.5 reviews:0.5:1.0"))
    assert [c.id for c in revised] == ["c1"]  # c2 stands: speech was heard there


def test_a_caption_covered_by_words_given_to_its_neighbour_is_removed():
    block = job(("c1", "relax:10.0:10.3"), ("c2", "relax:10.4:10.7 Kevin:10.7:11.0"))
    revised = revised_captions(block, timed("relax:10.1:10.5 Kevin:10.7:11.0"))
    assert reader_text(block, revised) == "relax Kevin"  # said once, shown once


def test_a_caption_whose_words_all_went_elsewhere_is_emptied():
    block = job(("c1", "so:3.0:3.2"), ("c2", "here's:3.3:3.6 the:3.6:3.8"))
    revised = revised_captions(block, timed("so:3.3:3.5 here's:3.5:3.7 the:3.7:3.8"))
    assert {c.id: c.text for c in revised}.get("c1") == ""
    assert reader_text(block, revised) == "so here's the"


def test_words_far_from_every_caption_are_dropped():
    block = job(("c1", "welcome:0.0:0.4"))
    revised = revised_captions(block, timed("welcome:0.0:0.4 thanks:6.0:6.3"))
    assert revised == []


def test_a_revision_that_gave_up_part_way_changes_nothing():
    block = job(("c1", "a:0:1 b:1:2 c:2:3"), ("c2", "d:3:4 e:4:5 f:5:6"))
    assert revised_captions(block, timed("a:0:1 x:1:2")) == []


@pytest.mark.slow
def test_revise_reads_a_whole_block_with_session_times(recognizer, onboarding_audio):
    from roomtone.streaming.caption_metrics import wer

    from .conftest import reference_between

    offset = 100.0  # any session time: words come back on the session clock
    words = recognizer.revise(onboarding_audio[: 28 * 16000], offset)
    reference = reference_between("dev_m03_onboarding", 0, 28)
    assert wer(reference, " ".join(w.text for w in words)) <= 0.1
    assert all(offset <= w.start <= w.end <= offset + 28.0 for w in words)
    assert all(a.start <= b.start for a, b in itertools.pairwise(words))


@pytest.mark.slow
def test_revise_reads_on_past_a_decoder_loop_in_noise(recognizer, eval_dir):
    """In dev_m02's pink noise Whisper loops ("no, no, no, …") 2 s into this block; the
    loop is cut and the remaining 24 s are read, as offline decoding moves on."""
    from roomtone.streaming.sources import decode_file

    from .conftest import reference_between

    audio = decode_file(eval_dir / "dev_m02_budget.flac")
    start, end = 25.7, 51.6
    words = recognizer.revise(audio[int(start * 16000) : int(end * 16000)], start)
    assert len(words) >= 40
    assert all(start <= a.start <= b.start < end for a, b in itertools.pairwise(words))
    reference = reference_between("dev_m02_budget", start, end)
    from roomtone.streaming.caption_metrics import wer

    assert wer(reference, " ".join(w.text for w in words)) <= 0.35
