"""A WebSocket sender that vanishes mid-stream, then garbage: the session keeps its captions."""

import asyncio
import json

import numpy as np
import pytest
from websockets.asyncio.client import connect

from roomtone.assistant.session import SessionRecorder
from roomtone.assistant.store import SessionStore
from roomtone.streaming.captioning import StreamingCaptioner
from roomtone.streaming.pipeline import run_pipeline
from roomtone.streaming.ws_source import WebSocketAudioSource

pytestmark = pytest.mark.slow


def test_session_survives_a_vanishing_sender_and_garbage(recognizer, onboarding_audio, tmp_path):
    store = SessionStore(tmp_path / "ws.db")
    sid = store.create_session("ws", "ws")
    recorder = SessionRecorder(store, sid)

    async def scenario() -> list[str]:
        source = WebSocketAudioSource(port=0)
        ready = asyncio.Event()
        frames = source.frames(ready)
        run = asyncio.create_task(
            run_pipeline(frames, StreamingCaptioner(recognizer), [recorder], realtime=True)
        )
        await ready.wait()
        url = f"ws://127.0.0.1:{source.port}/"
        # 48 kHz stereo s16 at real-time pace, 100 ms a message, then the sender vanishes.
        speech = onboarding_audio[: 17 * 16000]
        up = np.interp(np.arange(speech.size * 3) / 3, np.arange(speech.size), speech)
        pcm = (np.repeat(up[:, None], 2, axis=1) * 32767).astype(np.int16)
        ws = await connect(url)
        await ws.send(json.dumps({"sample_rate": 48000, "channels": 2}))
        for i in range(0, len(pcm), 4800):
            await ws.send(pcm[i : i + 4800].tobytes())
            await asyncio.sleep(0.1)
        ws.transport.abort()
        await asyncio.sleep(1.0)
        replies = []
        async with connect(url) as bad:
            await bad.send(b"\x00\x01\x02")
            replies.append(await bad.recv())
        await asyncio.sleep(1.0)
        await source.close()
        await run
        return replies

    replies = asyncio.run(scenario())
    assert "not whole" in json.loads(replies[0])["message"]
    text = " ".join(c.text for c in store.final_captions(sid)).lower()
    assert "security training" in text and "laptop" in text
    store.close()
