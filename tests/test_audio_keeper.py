"""The kept raw audio: samples at their clock place, gaps silent, readable after a crash."""

import numpy as np
import soundfile as sf

from roomtone.streaming.audio_keeper import AudioKeeper
from roomtone.streaming.sources import PcmFrame


def frame(start: int, value: int, n: int = 320) -> PcmFrame:
    return PcmFrame(start, np.full(n, value, dtype=np.int16))


def test_gaps_are_silence_and_overlaps_are_skipped(tmp_path):
    keeper = AudioKeeper(tmp_path / "a.wav")
    keeper.write(frame(0, 100))
    keeper.write(frame(640, 200))  # 320 samples of gap
    keeper.write(frame(800, 300))  # overlaps the last 160 samples
    keeper.close()
    audio, rate = sf.read(tmp_path / "a.wav", dtype="int16")
    assert rate == 16000 and audio.size == 1120
    assert (audio[:320] == 100).all() and (audio[320:640] == 0).all()
    assert (audio[640:960] == 200).all() and (audio[960:] == 300).all()


def test_a_crash_leaves_a_valid_file_that_a_resume_extends(tmp_path):
    path = tmp_path / "a.wav"
    keeper = AudioKeeper(path)
    for i in range(60):  # 1.2 s: the header was rewritten at 1 s
        keeper.write(frame(i * 320, 7))
    keeper._file.flush()  # the process dies here: no close()
    audio, _ = sf.read(path, dtype="int16")
    assert audio.size >= 16000 and (audio == 7).all()
    resumed = AudioKeeper(path)
    assert resumed.samples == 60 * 320
    resumed.write(frame(40000, 9))
    resumed.close()
    audio, _ = sf.read(path, dtype="int16")
    assert audio.size == 40320 and (audio[19200:40000] == 0).all() and (audio[40000:] == 9).all()
