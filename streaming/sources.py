"""Audio sources: a file replayed as if live, the local microphone, a WebSocket client.

Every source yields 20 ms frames of 16 kHz mono int16 PCM stamped with their sample
index on the session clock. Any input PyAV (FFmpeg) can decode is converted. Sources
that many senders take turns on (WebRTC, WebSocket) also yield :class:`SenderLeft`
when a sender stops, so what it left open is finished instead of waiting for the next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .clock import FRAME_SAMPLES, SAMPLE_RATE


class AudioInputError(ValueError):
    """The audio input cannot be read (a bad file, no microphone); the message says why."""


@dataclass(frozen=True)
class SenderLeft:
    """A live sender stopped (hung up or vanished); nothing is heard until one sends again."""

    end_sample: int  # one past the last sample it sent, on the session clock


@dataclass(frozen=True)
class PcmFrame:
    """20 ms of 16 kHz mono int16 audio starting at ``start_sample`` on the session clock."""

    start_sample: int
    pcm: np.ndarray  # int16, FRAME_SAMPLES long (the last frame of a source may be shorter)


class FrameCutter:
    """Re-cut arbitrary chunks of 16 kHz int16 audio into fixed 20 ms frames."""

    def __init__(self, start_sample: int = 0) -> None:
        self._pending = np.zeros(0, dtype=np.int16)
        self.next_sample = start_sample

    def feed(self, pcm: np.ndarray) -> Iterator[PcmFrame]:
        """Frames completed by this chunk."""
        data = np.concatenate([self._pending, pcm]) if self._pending.size else pcm
        full = data.size - data.size % FRAME_SAMPLES
        for i in range(0, full, FRAME_SAMPLES):
            yield PcmFrame(self.next_sample, data[i : i + FRAME_SAMPLES])
            self.next_sample += FRAME_SAMPLES
        self._pending = data[full:].copy()

    def flush(self) -> Iterator[PcmFrame]:
        """The last, shorter frame if any audio is left."""
        if self._pending.size:
            yield PcmFrame(self.next_sample, self._pending)
            self.next_sample += self._pending.size
            self._pending = np.zeros(0, dtype=np.int16)


def _resampled_chunks(container: av.container.InputContainer) -> Iterator[np.ndarray]:
    """Decode the first audio stream of an open container to 16 kHz mono int16."""
    if not container.streams.audio:
        raise AudioInputError("the file has no audio stream")
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    for frame in container.decode(stream):
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)


def decode_chunks(path: str | Path) -> Iterator[np.ndarray]:
    """Stream a file's audio as 16 kHz mono int16 chunks.

    Raises :class:`AudioInputError` for a missing, empty, non-audio or corrupt file;
    for a file that breaks part-way, the chunks before the damage are yielded first.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioInputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path}: the file is empty")
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioInputError(f"{path}: not an audio file FFmpeg can read ({exc})") from exc
    produced = 0
    try:
        with container:
            for chunk in _resampled_chunks(container):
                produced += chunk.size
                yield chunk
    except av.FFmpegError as exc:
        where = f" after {produced / SAMPLE_RATE:.1f} s" if produced else ""
        raise AudioInputError(f"{path}: the audio is damaged{where} ({exc})") from exc
    if produced == 0:
        raise AudioInputError(f"{path}: the file holds no audio samples")


def decode_file(path: str | Path) -> np.ndarray:
    """A whole file as 16 kHz mono float32 in [-1, 1] (for tests and benchmarks)."""
    chunks = list(decode_chunks(path))
    return np.concatenate(chunks).astype(np.float32) / 32768.0


async def file_frames(
    path: str | Path, *, realtime: bool, start_sample: int = 0
) -> AsyncIterator[PcmFrame]:
    """Replay a file as frames, paced at 1x wall-clock speed when ``realtime``."""
    cutter = FrameCutter(start_sample)
    t0 = time.monotonic()

    async def paced(frame: PcmFrame) -> PcmFrame:
        if realtime:
            due = t0 + (frame.start_sample - start_sample) / SAMPLE_RATE
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        return frame

    for chunk in decode_chunks(path):
        for frame in cutter.feed(chunk):
            yield await paced(frame)
        if not realtime:
            await asyncio.sleep(0)
    for frame in cutter.flush():
        yield await paced(frame)


async def microphone_frames(
    *,
    device: int | str | None = None,
    start_sample: int = 0,
    on_listening: Callable[[str], None] | None = None,
) -> AsyncIterator[PcmFrame]:
    """Frames from a local microphone through sounddevice (PortAudio).

    ``on_listening`` is told the device's name once the stream is open: from then on
    what the microphone hears is captioned.
    """
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        raise AudioInputError(
            f"no microphone support: {exc} (install PortAudio, e.g. apt install libportaudio2)"
        ) from exc
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=500)

    def on_audio(indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        chunk = indata[:, 0].copy() if indata.ndim == 2 else indata.copy()
        loop.call_soon_threadsafe(queue.put_nowait, chunk)

    try:
        info = sd.query_devices(device, "input")
    except (ValueError, sd.PortAudioError) as exc:
        raise AudioInputError(f"no usable microphone: {exc}") from exc
    rate = int(info["default_samplerate"])
    resampler = None if rate == SAMPLE_RATE else av.AudioResampler("s16", "mono", SAMPLE_RATE)
    cutter = FrameCutter(start_sample)
    stream = sd.InputStream(
        device=device,
        channels=1,
        samplerate=rate,
        dtype="int16",
        blocksize=rate // 50,
        callback=on_audio,
    )
    with stream:
        if on_listening is not None:
            on_listening(str(info["name"]))
        while True:
            chunk = await queue.get()
            if resampler is not None:
                frame = av.AudioFrame.from_ndarray(
                    chunk.reshape(1, -1), format="s16", layout="mono"
                )
                frame.sample_rate = rate
                pieces = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
                chunk = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
            for out in cutter.feed(chunk.astype(np.int16, copy=False)):
                yield out


async def until_stopped(
    frames: AsyncIterator[PcmFrame], stop: asyncio.Event
) -> AsyncIterator[PcmFrame]:
    """Pass frames on until ``stop`` is set, even while the source is waiting for audio."""
    iterator = aiter(frames)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while True:
            following = asyncio.ensure_future(anext(iterator))
            await asyncio.wait({following, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                await asyncio.gather(following, return_exceptions=True)
                return
            try:
                yield following.result()
            except StopAsyncIteration:
                return
    finally:
        stopped.cancel()
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            await closer()
