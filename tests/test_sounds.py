"""Sound captions from the real YAMNet on real eval audio."""

import numpy as np
import pytest

from roomtone.streaming.sounds import SoundDetector
from roomtone.streaming.sources import decode_file

from .conftest import eval_truth
from .room_audio import pink_noise, stream, turns_of

pytestmark = pytest.mark.slow


def test_a_phone_and_a_bell_are_captioned_once_each_near_their_start(yamnet, eval_dir):
    truth = eval_truth("dev_m01_launch")
    sounds = stream(SoundDetector(yamnet), decode_file(eval_dir / "dev_m01_launch.flac"))
    assert sorted(s.label for s in sounds) == ["bell", "telephone"]
    for event in truth["events"]:
        sound = next(s for s in sounds if s.label == event["label"])
        assert abs(sound.start - event["start"]) <= 1.0
        assert sound.final and sound.end >= event["end"] - 0.5
    phone = next(s for s in sounds if s.label == "telephone")
    assert phone.caption == "[phone ringing]"


def test_a_sound_is_announced_while_it_lasts_then_closed(yamnet, eval_dir):
    audio = decode_file(eval_dir / "dev_m01_launch.flac")
    ring = next(e for e in eval_truth("dev_m01_launch")["events"] if e["label"] == "telephone")
    detector = SoundDetector(yamnet)
    announced_at = None
    records = []
    for i in range(0, int((ring["end"] + 3) * 16000), 320):
        for record in detector.feed(audio[i : i + 320], i):
            records.append(record)
            if not record.final and announced_at is None:
                announced_at = (i + 320) / 16000
    assert [r.final for r in records] == [False, True]  # once while ringing, once closed
    assert announced_at is not None and announced_at - ring["start"] <= 2.0


def test_talk_alone_gets_no_sound_caption(yamnet, onboarding_audio):
    talk = turns_of(onboarding_audio, eval_truth("dev_m03_onboarding"), "S2")
    assert stream(SoundDetector(yamnet), talk) == []


def test_music_is_captioned_as_music(yamnet, eval_dir):
    truth = eval_truth("dev_m02_budget")
    music = next(e for e in truth["events"] if e["label"] == "music")
    audio = decode_file(eval_dir / "dev_m02_budget.flac")
    sounds = stream(SoundDetector(yamnet), audio[: int((music["end"] + 5) * 16000)])
    found = [s for s in sounds if s.label == "music"]
    assert len(found) == 1 and abs(found[0].start - music["start"]) <= 1.0


def test_steady_noise_is_captioned_once_and_silence_not_at_all(yamnet):
    assert stream(SoundDetector(yamnet), np.zeros(30 * 16000, np.float32)) == []
    sounds = stream(SoundDetector(yamnet), pink_noise(30, -35))
    assert [(s.label, s.caption) for s in sounds] == [("noise", "[background noise]")]
    assert sounds[0].start == 0.0 and sounds[0].end >= 29
