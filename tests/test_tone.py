"""Tone flags from real prosody (Praat pitch, level) and words, against each speaker's baseline."""

import numpy as np
import pytest

from roomtone.streaming.prosody import measure
from roomtone.streaming.records import Caption, SpeakerTurn, Word
from roomtone.streaming.sources import decode_file
from roomtone.streaming.tone import ToneTracker

from .conftest import eval_truth

pytestmark = pytest.mark.slow


def judged(meeting: str, eval_dir, keep=lambda turn: True):
    """Every reference turn judged in order, with its words spread over the turn."""
    truth = eval_truth(meeting)
    audio = decode_file(eval_dir / truth["audio"])
    tone = ToneTracker()
    out = []
    for i, ref in enumerate(t for t in truth["turns"] if keep(t)):
        clip = audio[int(ref["start"] * 16000) : int(ref["end"] * 16000)]
        turn = SpeakerTurn(
            f"t{i}", ref["speaker"], ref["start"], ref["end"], True, prosody=measure(clip)
        )
        words = ref["text"].split()
        step = (ref["end"] - ref["start"]) / len(words)
        caption = Caption(
            f"c{i}",
            True,
            tuple(
                Word(w, ref["start"] + k * step, ref["start"] + (k + 1) * step)
                for k, w in enumerate(words)
            ),
        )
        out.append((ref, tone.judge(turn, [caption])))
    return out


@pytest.mark.parametrize("meeting", ["dev_m03_onboarding", "dev_m04_postmortem"])
def test_agitated_turns_are_flagged_and_ordinary_ones_are_not(meeting, eval_dir):
    results = judged(meeting, eval_dir)
    for ref, flag in results:
        assert flag is not None
        if ref["arousal"] == "high":
            assert flag.label in {"raised voice", "excited", "emphatic"}, ref["text"]
        else:
            assert flag.label == "neutral", (ref["text"], flag)
    for ref, flag in results:
        same = [
            f.arousal
            for r, f in results
            if r["speaker"] == ref["speaker"] and r["arousal"] != "high"
        ]
        if ref["arousal"] == "high":
            assert flag.arousal > max(same)


def test_a_calm_monologue_gets_no_flags(eval_dir):
    results = judged(
        "dev_m01_launch", eval_dir, keep=lambda t: t["speaker"] == "S1" and t["arousal"] != "high"
    )
    assert len(results) >= 8
    assert {flag.label for _, flag in results} == {"neutral"}


def test_a_turn_without_words_is_not_judged():
    tone = ToneTracker()
    silence = measure(np.zeros(32000, np.float32))
    turn = SpeakerTurn("t1", "S1", 0.0, 2.0, True, prosody=silence)
    assert tone.judge(turn, []) is None
