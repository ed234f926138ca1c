"""Decoding any input to 16 kHz mono on the session clock, and refusing bad input clearly."""

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from roomtone.streaming.clock import FRAME_SAMPLES
from roomtone.streaming.sources import AudioInputError, FrameCutter, decode_chunks, decode_file

SECONDS = 6


@pytest.fixture(scope="module")
def speech(onboarding_audio: np.ndarray) -> np.ndarray:
    return onboarding_audio[: SECONDS * 16000]


def _resample(x: np.ndarray, rate: int) -> np.ndarray:
    frame = av.AudioFrame.from_ndarray(x[None].astype(np.float32), format="flt", layout="mono")
    frame.sample_rate = 16000
    r = av.AudioResampler(format="flt", layout="mono", rate=rate)
    return np.concatenate(
        [f.to_ndarray().reshape(-1) for f in [*r.resample(frame), *r.resample(None)]]
    )


@pytest.mark.parametrize(
    ("rate", "channels", "subtype"),
    [
        (8000, 1, "PCM_16"),
        (48000, 1, "PCM_16"),
        (44100, 2, "PCM_16"),
        (16000, 1, "FLOAT"),
        (48000, 2, "FLOAT"),
    ],
)
def test_any_rate_channels_and_format_become_16k_mono(tmp_path, speech, rate, channels, subtype):
    x = _resample(speech, rate) if rate != 16000 else speech
    data = np.stack([x, x * 0.5], axis=1) if channels == 2 else x
    path = tmp_path / f"in_{rate}_{channels}.wav"
    sf.write(path, data, rate, subtype=subtype)
    out = decode_file(path)
    assert abs(out.size - speech.size) <= 64  # resampler edges
    n = min(out.size, speech.size)
    # Same speech envelope: the conversion kept the content (8 kHz loses the highs only).
    env = lambda a: np.convolve(np.abs(a[:n]), np.ones(320) / 320, "valid")  # noqa: E731
    assert np.corrcoef(env(out), env(speech))[0, 1] > 0.95


def test_compressed_input_decodes(tmp_path, speech):
    path = tmp_path / "speech.ogg"
    sf.write(path, speech, 16000, format="OGG", subtype="VORBIS")
    assert abs(decode_file(path).size - speech.size) < 1600


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(AudioInputError, match="empty"):
        decode_file(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(AudioInputError, match="no such file"):
        decode_file(tmp_path / "nope.flac")


def test_non_audio_file_is_refused(tmp_path):
    path = tmp_path / "notes.flac"
    path.write_text("minutes of the meeting\n" * 50)
    with pytest.raises(AudioInputError, match=r"not an audio file|no audio"):
        decode_file(path)


def test_truncated_file_yields_the_audio_before_the_cut(eval_dir: Path, tmp_path):
    data = (eval_dir / "dev_m03_onboarding.flac").read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(data[: len(data) // 3])
    got = 0
    try:
        for chunk in decode_chunks(path):
            got += chunk.size
    except AudioInputError as exc:
        assert "damaged" in str(exc)
    # A third of the bytes holds roughly a third of the 111.6 s meeting.
    assert 25 * 16000 < got < 50 * 16000


def test_garbage_in_the_middle_is_reported_with_where_it_broke(eval_dir: Path, tmp_path):
    data = bytearray((eval_dir / "dev_m03_onboarding.flac").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 20000] = b"\xff" * 20000
    path = tmp_path / "broken.flac"
    path.write_bytes(bytes(data))
    got = 0
    try:
        for chunk in decode_chunks(path):
            got += chunk.size
    except AudioInputError as exc:
        assert "damaged" in str(exc)
    assert got > 40 * 16000  # the first half survives either way


def test_frame_cutter_makes_fixed_frames_on_one_clock():
    cutter = FrameCutter(start_sample=1000)
    frames = [*cutter.feed(np.zeros(500, np.int16)), *cutter.feed(np.zeros(300, np.int16))]
    frames += list(cutter.flush())
    assert [f.start_sample for f in frames] == [
        1000,
        1000 + FRAME_SAMPLES,
        1000 + 2 * FRAME_SAMPLES,
    ]
    assert [f.pcm.size for f in frames] == [FRAME_SAMPLES, FRAME_SAMPLES, 800 - 2 * FRAME_SAMPLES]
