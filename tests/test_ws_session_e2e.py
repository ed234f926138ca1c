"""A WebSocket sender that vanishes mid-sentence, then garbage: the session keeps its captions.

What the vanished sender had said becomes final at once (a reader is not left with a
partial until somebody else sends).
"""

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
    latest: dict[str, dict] = {}  # each caption's newest state, as readers see it

    def watch(event: dict) -> None:
        if event["type"] == "caption":
            latest[event["id"]] = event

    def left_open() -> list[str]:
        return [e["text"] for e in latest.values() if not e["final"]]

    async def scenario() -> tuple[list[str], list[str], str]:
        source = WebSocketAudioSource(port=0)
        ready = asyncio.Event()
        frames = source.frames(ready)
        run = asyncio.create_task(
            run_pipeline(frames, StreamingCaptioner(recognizer), [recorder, watch], realtime=True)
        )
        await ready.wait()
        url = f"ws://127.0.0.1:{source.port}/"
        # 48 kHz stereo s16 at real-time pace, 100 ms a message, then the sender vanishes
        # at 21.5 s, mid-sentence ("I filed a ticket with IT last Tuesday, ticket ...").
        speech = onboarding_audio[: int(21.5 * 16000)]
        up = np.interp(np.arange(speech.size * 3) / 3, np.arange(speech.size), speech)
        pcm = (np.repeat(up[:, None], 2, axis=1) * 32767).astype(np.int16)
        ws = await connect(url)
        await ws.send(json.dumps({"sample_rate": 48000, "channels": 2}))
        for i in range(0, len(pcm), 4800):
            await ws.send(pcm[i : i + 4800].tobytes())
            await asyncio.sleep(0.1)
        ws.transport.abort()
        for _ in range(100):  # no one sends now; what was open is finished meanwhile
            await asyncio.sleep(0.2)
            if latest and not left_open():
                break
        still_open = left_open()
        said = " ".join(e["text"] for e in latest.values() if e["final"]).lower()
        replies = []
        async with connect(url) as bad:
            await bad.send(b"\x00\x01\x02")
            replies.append(await bad.recv())
        await asyncio.sleep(1.0)
        await source.close()
        await run
        return replies, still_open, said

    replies, still_open, said = asyncio.run(scenario())
    assert still_open == [], f"partials left on screen after the sender vanished: {still_open}"
    assert "ticket" in said  # the sentence cut off mid-way is final
    assert "not whole" in json.loads(replies[0])["message"]
    text = " ".join(c.text for c in store.final_captions(sid)).lower()
    assert "security training" in text and "laptop" in text
    store.close()
