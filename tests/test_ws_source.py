"""The WebSocket audio source: format conversion, protocol errors, vanishing clients."""

import asyncio
import json

import numpy as np
import pytest
from websockets.asyncio.client import connect

from roomtone.streaming.sources import PcmFrame, SenderLeft
from roomtone.streaming.ws_source import ProtocolError, StreamFormat, WebSocketAudioSource


def test_header_validation():
    assert StreamFormat.from_header('{"sample_rate": 48000, "channels": 2}').channels == 2
    for bad in ["not json", "[1, 2]", '{"sample_rate": 3}', '{"format": "mp3"}', '{"channels": 0}']:
        with pytest.raises(ProtocolError):
            StreamFormat.from_header(bad)


async def _collect(source: WebSocketAudioSource, sink: list, ready: asyncio.Event) -> None:
    async for frame in source.frames(ready):
        sink.append(frame)


def test_converts_clients_and_survives_garbage_and_disconnects(onboarding_audio):
    async def scenario() -> tuple[list, list[str]]:
        source = WebSocketAudioSource(port=0)
        frames: list = []
        ready = asyncio.Event()
        task = asyncio.create_task(_collect(source, frames, ready))
        await ready.wait()
        url = f"ws://127.0.0.1:{source.port}/"
        replies: list[str] = []
        # 1. A 48 kHz stereo float client sends 1 s, then vanishes without a close.
        stereo = np.repeat(np.linspace(-0.5, 0.5, 48000, dtype=np.float32)[:, None], 2, axis=1)
        ws = await connect(url)
        await ws.send(json.dumps({"sample_rate": 48000, "channels": 2, "format": "f32le"}))
        await ws.send(stereo.tobytes())
        await asyncio.sleep(0.2)
        ws.transport.abort()
        await asyncio.sleep(0.2)
        # 2. A client that sends garbage gets a clear error and is closed.
        async with connect(url) as bad:
            await bad.send("hello?")
            await bad.send(b"\x01\x02\x03")  # odd length for s16le
            replies.append(await bad.recv())
        # 3. A default-format client still gets in afterwards.
        async with connect(url) as good:
            await good.send((onboarding_audio[:8000] * 32767).astype(np.int16).tobytes())
        await asyncio.sleep(0.2)
        await source.close()
        await task
        return frames, replies

    frames, replies = asyncio.run(scenario())
    reply = json.loads(replies[0])
    assert reply["type"] == "error" and "header" in reply["message"]
    audio = [f for f in frames if isinstance(f, PcmFrame)]
    total = sum(f.pcm.size for f in audio)
    assert 16000 + 8000 - 400 <= total <= 16000 + 8000 + 400
    starts = [f.start_sample for f in audio]
    assert starts == sorted(starts)  # one clock across clients
    # each sender's end is marked after its last frame (the garbage one sent none)
    ends = [(i, f) for i, f in enumerate(frames) if isinstance(f, SenderLeft)]
    assert len(ends) == 3
    first_end, first = ends[0]
    last_sent = frames[first_end - 1]
    assert first.end_sample == last_sent.start_sample + last_sent.pcm.size
    assert frames[-1] == ends[-1][1]
