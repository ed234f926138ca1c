"""Rolling windows on the session clock and their absolute time markers."""

import numpy as np

from roomtone.streaming.clock import format_clock
from roomtone.streaming.windows import AudioWindow, RollingWindow


def test_markers_are_absolute_session_seconds_every_two_seconds():
    window = AudioWindow(start_sample=int(41.5 * 16000), audio=np.zeros(5 * 16000, np.float32))
    assert window.markers == [42.0, 44.0, 46.0]
    assert window.start == 41.5 and window.end == 46.5


def test_trim_keeps_the_clock_and_bounds_memory():
    rw = RollingWindow(capacity_s=4)
    for i in range(10):
        rw.append(np.full(16000, i, np.float32))
    assert rw.end_sample == 10 * 16000
    assert rw.start_sample == 6 * 16000  # capacity pushed the oldest out
    rw.trim_to(8 * 16000)
    w = rw.window()
    assert w.start == 8.0 and w.duration == 2.0
    assert w.audio[0] == 8 and w.audio[-1] == 9


def test_skip_to_starts_an_empty_window_later():
    rw = RollingWindow(capacity_s=2)
    rw.append(np.ones(100, np.float32))
    rw.skip_to(50_000)
    assert rw.window().audio.size == 0 and rw.end_sample == 50_000


def test_clock_format():
    assert format_clock(62.9) == "01:02"
    assert format_clock(3725) == "1:02:05"
