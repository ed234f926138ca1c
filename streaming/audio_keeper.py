"""Keep a session's raw audio (opt-in) so it can be re-processed with a better model.

The audio goes to a 16 kHz mono 16-bit WAV as it is heard, each sample at its place on
the session clock (a gap, such as the time roomtone was stopped, is silence). The WAV
header's sizes are rewritten every second, so after a crash the file is a valid WAV
holding all but at most the last second; a resumed session appends to the same file.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .clock import SAMPLE_RATE
from .sources import PcmFrame, SenderLeft

HEADER_BYTES = 44
HEADER_EVERY_SAMPLES = SAMPLE_RATE  # rewrite the sizes once a second of audio


def wav_header(data_bytes: int) -> bytes:
    """A canonical PCM WAV header for 16 kHz mono s16le."""
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
        + b"data" + struct.pack("<I", data_bytes)
    )  # fmt: skip


class AudioKeeper:
    """Writes frames to ``path`` at their place on the session clock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists() or path.stat().st_size < HEADER_BYTES
        self._file: BinaryIO = open(path, "w+b" if fresh else "r+b")  # noqa: SIM115 - close()
        if fresh:
            self._file.write(wav_header(0))
        self._file.seek(0, 2)
        size = self._file.tell() - HEADER_BYTES
        self._file.seek(HEADER_BYTES + size - size % 2)  # a torn last sample is dropped
        self.samples = size // 2
        self._since_header = 0

    def write(self, frame: PcmFrame) -> None:
        """Append one frame; silence fills any gap before it, overlap is skipped."""
        skip = max(0, self.samples - frame.start_sample)
        gap = max(0, frame.start_sample - self.samples)
        pcm = frame.pcm[skip:]
        if gap:
            self._file.write(np.zeros(gap, dtype="<i2").tobytes())
        self._file.write(pcm.astype("<i2", copy=False).tobytes())
        self.samples += gap + pcm.size
        self._since_header += gap + pcm.size
        if self._since_header >= HEADER_EVERY_SAMPLES:
            self.sync()

    def sync(self) -> None:
        """Make the header match the data written so far."""
        end = self._file.tell()
        self._file.seek(0)
        self._file.write(wav_header(self.samples * 2))
        self._file.seek(end)
        self._file.flush()
        self._since_header = 0

    def close(self) -> None:
        """Final header; the file is complete."""
        if not self._file.closed:
            self.sync()
            self._file.close()


async def keeping_audio(
    frames: AsyncIterator[PcmFrame | SenderLeft], keeper: AudioKeeper
) -> AsyncIterator[PcmFrame | SenderLeft]:
    """Pass frames on, keeping the audio of each one."""
    try:
        async for frame in frames:
            if isinstance(frame, PcmFrame):
                keeper.write(frame)
            yield frame
    finally:
        keeper.close()
