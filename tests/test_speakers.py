"""Speaker turns from the real voice encoder on real eval audio."""

from dataclasses import replace

import numpy as np
import pytest

from roomtone.streaming.speakers import DiarizerSettings, OnlineDiarizer

from .conftest import eval_truth
from .room_audio import pink_noise, speaker_accuracy, stream, turns_of

pytestmark = pytest.mark.slow


def test_a_two_person_meeting_gets_two_speakers_labelled_right(embedder, onboarding_audio):
    truth = eval_truth("dev_m03_onboarding")
    turns = stream(OnlineDiarizer(embedder), onboarding_audio)
    assert all(t.final for t in turns)
    assert len({t.speaker for t in turns}) == 2
    assert speaker_accuracy(truth, turns) >= 0.9


def test_speech_is_labelled_within_two_seconds(embedder, onboarding_audio):
    truth = eval_truth("dev_m03_onboarding")
    long_turn = next(t for t in truth["turns"] if t["end"] - t["start"] > 4)
    diarizer = OnlineDiarizer(embedder)
    heard = []
    for i in range(0, int((long_turn["start"] + 2.0) * 16000), 320):
        heard += diarizer.feed(onboarding_audio[i : i + 320], i)
    assert any(long_turn["start"] - 0.3 <= r.start < long_turn["end"] for r in heard)


def test_a_provisional_label_is_replaced_by_the_final_turn(embedder, onboarding_audio):
    diarizer = OnlineDiarizer(embedder)
    records = []
    for i in range(0, onboarding_audio.size, 320):
        records += diarizer.feed(onboarding_audio[i : i + 320], i)
    provisional = [r for r in records if not r.final]
    finals = {r.id: r for r in records if r.final}
    assert provisional
    assert all(
        r.id in finals and finals[r.id].start <= r.start < finals[r.id].end for r in provisional
    )


def test_one_long_monologue_stays_one_speaker(embedder, onboarding_audio):
    monologue = turns_of(onboarding_audio, eval_truth("dev_m03_onboarding"), "S1")
    turns = stream(OnlineDiarizer(embedder), monologue)
    assert len(turns) > 10
    assert {t.speaker for t in turns} == {"S1"}


@pytest.mark.parametrize(
    "audio",
    [np.zeros(20 * 16000, np.float32), pink_noise(20, -30)],
    ids=["silence", "pink-noise"],
)
def test_no_speech_invents_no_speaker(embedder, audio):
    assert stream(OnlineDiarizer(embedder), audio) == []


def test_music_alone_invents_no_speaker(embedder, eval_dir):
    from roomtone.streaming.sources import decode_file

    truth = eval_truth("dev_m02_budget")
    music = next(e for e in truth["events"] if e["label"] == "music")
    audio = decode_file(eval_dir / "dev_m02_budget.flac")
    clip = audio[int(music["start"] * 16000) : int(music["end"] * 16000)]
    turns = stream(OnlineDiarizer(embedder), np.tile(clip, 3))
    assert sum(t.end - t.start for t in turns) < 1.0


def test_a_long_meeting_keeps_only_the_recent_segments_and_its_speakers(embedder, onboarding_audio):
    """Segments older than refining reaches fold into fixed sums: memory stays bounded."""
    truth = eval_truth("dev_m03_onboarding")
    diarizer = OnlineDiarizer(embedder, replace(DiarizerSettings(), refine_window=16))
    turns = stream(diarizer, onboarding_audio)
    assert len(turns) > 16 and len(diarizer._segments) == 16
    assert len({t.speaker for t in turns}) == 2
    assert speaker_accuracy(truth, turns) >= 0.9
