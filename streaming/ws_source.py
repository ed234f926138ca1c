"""A WebSocket audio source: clients send PCM, the session hears one continuous clock.

Protocol (one sender at a time on ``ws://HOST:PORT/``):

* optional first text message, JSON: ``{"sample_rate": 48000, "channels": 2,
  "format": "s16le" | "f32le"}`` (default 16000 Hz, mono, s16le);
* then binary messages of interleaved PCM in that format.

Anything else gets an ``{"type": "error", "message": ...}`` reply and the connection
is closed; the session and what it already holds are untouched. When a sender goes
away, the clock keeps the wall-clock gap so later audio stays at its true time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import av
import numpy as np
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .clock import SAMPLE_RATE
from .senders import SenderBusyError, SenderTurns
from .sources import PcmFrame, SenderLeft

MAX_MESSAGE_BYTES = 1 << 20
_FORMATS = {"s16le": ("s16", np.int16, 2), "f32le": ("flt", np.float32, 4)}


class ProtocolError(ValueError):
    """A client broke the audio protocol."""


@dataclass(frozen=True)
class StreamFormat:
    """What a client says it sends."""

    sample_rate: int = SAMPLE_RATE
    channels: int = 1
    format: str = "s16le"

    @classmethod
    def from_header(cls, text: str) -> StreamFormat:
        """Parse and check the JSON header message."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"the header is not JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise ProtocolError("the header must be a JSON object")
        fmt = cls(
            sample_rate=data.get("sample_rate", SAMPLE_RATE),
            channels=data.get("channels", 1),
            format=data.get("format", "s16le"),
        )
        if not isinstance(fmt.sample_rate, int) or not 8000 <= fmt.sample_rate <= 192_000:
            raise ProtocolError("sample_rate must be an integer from 8000 to 192000")
        if not isinstance(fmt.channels, int) or not 1 <= fmt.channels <= 8:
            raise ProtocolError("channels must be an integer from 1 to 8")
        if fmt.format not in _FORMATS:
            raise ProtocolError(f"format must be one of {sorted(_FORMATS)}")
        return fmt


class PcmConverter:
    """Convert a client's interleaved PCM to 16 kHz mono int16."""

    def __init__(self, fmt: StreamFormat) -> None:
        self.fmt = fmt
        av_format, self._dtype, self._width = _FORMATS[fmt.format]
        self._frame_bytes = self._width * fmt.channels
        self._av_format = av_format
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def convert(self, payload: bytes) -> np.ndarray:
        """One binary message to 16 kHz mono int16 samples."""
        if len(payload) % self._frame_bytes:
            raise ProtocolError(
                f"a message of {len(payload)} bytes is not whole {self.fmt.format} "
                f"frames of {self.fmt.channels} channel(s)"
            )
        if not payload:  # FFmpeg cannot resample an empty frame
            return np.zeros(0, dtype=np.int16)
        samples = np.frombuffer(payload, dtype=self._dtype).reshape(-1, self.fmt.channels)
        if self.fmt.format == "f32le" and not np.all(np.isfinite(samples)):
            raise ProtocolError("float samples must be finite")
        if self.fmt == StreamFormat():
            return samples[:, 0].copy()
        layout = "mono" if self.fmt.channels == 1 else "stereo" if self.fmt.channels == 2 else None
        if layout is None:  # mix down here: PyAV has no layout name for every count
            samples = samples.mean(axis=1, keepdims=True).astype(self._dtype)
            layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples.reshape(1, -1)), format=self._av_format, layout=layout
        )
        frame.sample_rate = self.fmt.sample_rate
        pieces = [f.to_ndarray().reshape(-1) for f in self._resampler.resample(frame)]
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)


class WebSocketAudioSource:
    """Serves the audio protocol and yields the frames of whoever is sending."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8765, start_sample: int = 0) -> None:
        self.host, self.port = host, port
        self._frames: asyncio.Queue[PcmFrame | SenderLeft | None] = asyncio.Queue(maxsize=2000)
        self._turns = SenderTurns(start_sample)
        self.errors: list[str] = []

    async def frames(
        self, ready: asyncio.Event | None = None
    ) -> AsyncIterator[PcmFrame | SenderLeft]:
        """Frames until the source is closed with :meth:`close`."""
        async with serve(self._handle, self.host, self.port, max_size=MAX_MESSAGE_BYTES) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            if ready is not None:
                ready.set()
            while (frame := await self._frames.get()) is not None:
                yield frame

    async def close(self) -> None:
        """End the stream of frames."""
        await self._frames.put(None)

    async def _handle(self, ws: ServerConnection) -> None:
        try:
            cutter = self._turns.begin(ws)
        except SenderBusyError as exc:
            await self._refuse(ws, str(exc))
            return
        converter = PcmConverter(StreamFormat())
        first = True
        try:
            async for message in ws:
                if isinstance(message, str):
                    if not first:
                        raise ProtocolError("the format header may only be the first message")
                    converter = PcmConverter(StreamFormat.from_header(message))
                else:
                    for frame in cutter.feed(converter.convert(message)):
                        await self._frames.put(frame)
                first = False
        except ProtocolError as exc:
            self.errors.append(str(exc))
            await self._refuse(ws, str(exc))
        except ConnectionClosed:
            pass  # a client that vanishes mid-stream ends its turn, not the session
        finally:
            for frame in self._turns.leaving(cutter):
                await self._frames.put(frame)
            self._turns.end(ws, cutter)

    @staticmethod
    async def _refuse(ws: ServerConnection, message: str) -> None:
        try:
            await ws.send(json.dumps({"type": "error", "message": message}))
            await ws.close(code=1003, reason=message[:120])
        except ConnectionClosed:
            pass
