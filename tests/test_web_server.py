"""The web server under bad input: malformed offers, junk on the WebSocket, a second
microphone, a sender that vanishes. Each gets a clear error; viewers keep the meeting.

The senders here are real WebRTC peers (aiortc playing an eval clip), the store is real
SQLite, and the viewers are real WebSocket clients.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from roomtone.assistant.store import SessionStore
from roomtone.streaming.sources import PcmFrame, SenderLeft
from roomtone.streaming.webrtc_source import WebRTCAudioSource, offer_loopback_candidates
from roomtone.ui.hub import EventHub
from roomtone.ui.web_server import MeetingView, WebServer

CAPTION = {
    "type": "caption", "id": "c1", "final": True, "start": 1.0, "end": 2.0, "text": "hello there",
    "speaker": "S1", "words": [{"text": "hello", "start": 1.0, "end": 1.4},
                               {"text": "there", "start": 1.5, "end": 2.0}], "emitted": 2.5,
}  # fmt: skip


@pytest.fixture
def meeting(tmp_path):
    store = SessionStore(tmp_path / "web.db")
    sid = store.create_session("web test", "web")
    turn = {"type": "speaker", "id": "t1", "speaker": "S1", "start": 1.0, "end": 2.0,
            "final": True, "emitted": 2.4}  # fmt: skip
    hub = EventHub(store, sid)
    for event in (turn, CAPTION):
        store.append(sid, event)
        hub(event)
    view = MeetingView(hub, store, sid, "web test", live=True, audio=WebRTCAudioSource())
    yield view
    store.close()


async def serving(view: MeetingView) -> WebServer:
    server = WebServer(view, "127.0.0.1", 0)
    await server.start()
    return server


async def offer_from(clip) -> tuple[RTCPeerConnection, dict]:
    """A real WebRTC sender playing ``clip``: its peer connection and its offer."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(MediaPlayer(str(clip)).audio)
    await pc.setLocalDescription(await pc.createOffer())
    return pc, {"sdp": pc.localDescription.sdp, "type": "offer"}


def test_malformed_offers_are_4xx_and_the_viewers_stay(meeting):
    async def scenario() -> None:
        server = await serving(meeting)
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(server.url + "ws") as viewer,
            ):
                hello = await viewer.receive_json(timeout=5)
                assert hello["type"] == "hello" and hello["microphone"] is True
                assert (await viewer.receive_json(timeout=5))["id"] == "t1"  # the past
                assert (await viewer.receive_json(timeout=5))["id"] == "c1"
                assert (await viewer.receive_json(timeout=5))["type"] == "caught_up"
                bad = [
                    (b"not json at all", 400, "not JSON"),
                    (json.dumps([1, 2]).encode(), 400, "JSON object"),
                    (json.dumps({"sdp": "v=0\r\n", "type": "answer"}).encode(), 400, "offer"),
                    (json.dumps({"sdp": 42, "type": "offer"}).encode(), 400, "SDP"),
                    (json.dumps({"sdp": "v=0\r\nm=video 9 x\r\n", "type": "offer"}).encode(),
                     400, "no audio"),
                    (json.dumps({"sdp": "v=0\r\nm=audio 9 garbage\r\n", "type": "offer"})
                     .encode(), 400, "could not be read"),
                    (b"x" * (200 * 1024), 413, "larger"),
                ]  # fmt: skip
                for body, status, words in bad:
                    async with http.post(server.url + "offer", data=body) as reply:
                        assert reply.status == status, body[:40]
                        assert words in (await reply.json())["error"]
                # The meeting goes on: a new event still reaches the viewer.
                meeting.hub({**CAPTION, "id": "c2", "text": "still here"})
                assert (await viewer.receive_json(timeout=5))["text"] == "still here"
                assert not meeting.audio.sending
        finally:
            await server.stop()

    asyncio.run(scenario())


def test_junk_on_the_websocket_gets_errors_not_a_hangup(meeting):
    told: list[dict] = []
    meeting.followers = (told.append,)

    async def scenario() -> None:
        server = await serving(meeting)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(server.url + "ws") as ws:
                    for _ in range(4):  # hello, the turn, the caption, caught up
                        await ws.receive_json(timeout=5)
                    for junk, words in [
                        ("{not json", "must be JSON"),
                        ("[1]", "JSON object"),
                        (json.dumps({"type": "dance"}), "unknown message type"),
                        (json.dumps({"type": "rename", "speaker": "S9", "name": "Zed"}),
                         "no speaker 'S9'"),
                        (json.dumps({"type": "rename", "speaker": "S1", "name": ""}), "1 to 40"),
                    ]:  # fmt: skip
                        await ws.send_str(junk)
                        reply = await ws.receive_json(timeout=5)
                        assert reply["type"] == "error" and words in reply["message"], junk
                    await ws.send_bytes(b"\x00\x01")
                    assert "JSON" in (await ws.receive_json(timeout=5))["message"]
                    await ws.send_str(json.dumps({"type": "ask", "id": "q1", "question": "hi"}))
                    reply = await ws.receive_json(timeout=5)
                    assert reply == {
                        "type": "answer",
                        "id": "q1",
                        "error": "the assistant is off (start with --assistant)",
                    }
                    # A good rename reaches everyone and is kept in the session.
                    await ws.send_str(json.dumps({"type": "rename", "speaker": "S1",
                                                  "name": " Alice "}))  # fmt: skip
                    assert await ws.receive_json(timeout=5) == {
                        "type": "name", "speaker": "S1", "name": "Alice"}  # fmt: skip
                    assert ws.closed is False
                async with http.ws_connect(server.url + "ws") as ws:  # who is in the meeting
                    while (await ws.receive_json(timeout=5))["type"] != "caught_up":
                        pass
                    for names, words in [
                        (["Kevin"], "people needs names"),
                        ("Kevin, 42", "is not a name"),
                        (" , ", "give the meeting"),
                    ]:
                        await ws.send_str(json.dumps({"type": "people", "names": names}))
                        reply = await ws.receive_json(timeout=5)
                        assert reply["type"] == "error" and words in reply["message"], names
                    names = "Kevin, Laura  Smith;Malik"
                    await ws.send_str(json.dumps({"type": "people", "names": names}))
                    people = {"type": "people", "names": ["Kevin", "Laura Smith", "Malik"]}
                    assert await ws.receive_json(timeout=5) == people  # to every viewer
                    assert told == [{"type": "name", "speaker": "S1", "name": "Alice"}, people]
                async with http.ws_connect(server.url + "ws", max_msg_size=0) as ws:
                    await ws.send_str("x" * 100_000)  # oversized: closed, not crashed
                    kinds = []
                    while not kinds or kinds[-1] == aiohttp.WSMsgType.TEXT:
                        kinds.append((await ws.receive(timeout=5)).type)
                    assert kinds[-1] in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                async with http.get(server.url + "export?format=md") as reply:
                    assert reply.status == 200
                    text = await reply.text()
                    assert "hello there" in text and "Alice" in text
                async with http.get(server.url + "export?format=exe") as reply:
                    assert reply.status == 400
        finally:
            await server.stop()
        assert meeting.store.speaker_names(meeting.session_id) == {"S1": "Alice"}
        kept = [e for e in meeting.store.events(meeting.session_id) if e["type"] == "people"]
        assert [e["names"] for e in kept] == [["Kevin", "Laura Smith", "Malik"]]

    asyncio.run(scenario())


@pytest.mark.slow
def test_one_microphone_at_a_time_and_a_vanished_one_frees_the_turn(meeting, clip_30s):
    offer_loopback_candidates()

    async def scenario() -> None:
        server = await serving(meeting)
        frames = meeting.audio.frames()
        got: list = []

        async def collect() -> None:
            async for frame in frames:
                got.append(frame)

        collector = asyncio.create_task(collect())
        try:
            async with aiohttp.ClientSession() as http:
                first, offer = await offer_from(clip_30s)
                async with http.post(server.url + "offer", json=offer) as reply:
                    assert reply.status == 200
                    await first.setRemoteDescription(RTCSessionDescription(**await reply.json()))
                for _ in range(100):  # audio arrives over WebRTC
                    if len(got) > 50:
                        break
                    await asyncio.sleep(0.1)
                assert len(got) > 50 and meeting.audio.sending
                second, offer2 = await offer_from(clip_30s)
                async with http.post(server.url + "offer", json=offer2) as reply:
                    assert reply.status == 409
                    assert "already sending" in (await reply.json())["error"]
                await second.close()
                await first.close()  # the sender vanishes
                for _ in range(150):
                    if not meeting.audio.sending:
                        break
                    await asyncio.sleep(0.1)
                assert not meeting.audio.sending, "the turn is freed within seconds"
                third, offer3 = await offer_from(clip_30s)
                async with http.post(server.url + "offer", json=offer3) as reply:
                    assert reply.status == 200
                await third.close()
        finally:
            await server.stop()
            await meeting.audio.close()
            await collector
        audio = [f for f in got if isinstance(f, PcmFrame)]
        starts = [f.start_sample for f in audio]
        assert starts == sorted(starts), "one clock: frames never go back in time"
        assert any(isinstance(f, SenderLeft) for f in got), "the vanished sender's end is marked"

    asyncio.run(scenario())
