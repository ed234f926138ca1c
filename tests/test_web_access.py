"""Nobody let in who was not invited: tokens off loopback, roles, origins and limits.

A real server bound to every interface (0.0.0.0) on a real session store, reached over
real HTTP and WebSocket connections.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from roomtone.assistant.store import SessionStore
from roomtone.streaming.webrtc_source import WebRTCAudioSource
from roomtone.ui.access import AccessPolicy, Role, is_loopback, same_origin
from roomtone.ui.hub import EventHub
from roomtone.ui.web_server import MAX_SOCKETS_PER_CLIENT, MeetingView, WebServer


def test_policy_is_open_only_on_loopback():
    assert AccessPolicy.for_host("127.0.0.1").open
    assert AccessPolicy.for_host("::1").open and AccessPolicy.for_host("localhost").open
    wide = AccessPolicy.for_host("0.0.0.0")
    assert not wide.open and wide.presenter_token != wide.viewer_token
    assert len(wide.presenter_token) >= 32
    assert wide.role(None) is None and wide.role("guess") is None
    assert wide.role(wide.viewer_token) is Role.VIEWER
    assert wide.role(wide.presenter_token) is Role.PRESENTER
    assert not is_loopback("192.0.2.2") and not is_loopback("")
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert not same_origin("http://evil.example", "127.0.0.1:8000")
    assert not same_origin("null", "127.0.0.1:8000")


@pytest.fixture
def wide_server(tmp_path):
    store = SessionStore(tmp_path / "a.db")
    sid = store.create_session("private meeting", "web")
    for event in (
        {"type": "speaker", "id": "t1", "speaker": "S1", "start": 0.0, "end": 1.0, "final": True},
        {"type": "caption", "id": "c1", "final": True, "start": 0.0, "end": 1.0,
         "text": "secret plans", "speaker": "S1",
         "words": [{"text": "secret", "start": 0.0, "end": 0.5},
                   {"text": "plans", "start": 0.5, "end": 1.0}]},
    ):  # fmt: skip
        store.append(sid, event)
    view = MeetingView(
        EventHub(store, sid), store, sid, "private", live=True, audio=WebRTCAudioSource()
    )
    yield WebServer(view, "0.0.0.0", 0)
    store.close()


def run(server: WebServer, scenario) -> None:
    async def main() -> None:
        await server.start()
        base = f"http://127.0.0.1:{server.port}/"
        try:
            # Browsers keep cookies for an address like 127.0.0.1; aiohttp needs "unsafe".
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                await scenario(http, base)
        finally:
            await server.stop()

    asyncio.run(main())


def test_without_the_token_nothing_is_served(wide_server):
    async def scenario(http: aiohttp.ClientSession, base: str) -> None:
        for path in ("", "ws", "export?format=md", "page/app.js"):
            for token in ("", "?token=wrong"):
                async with http.get(base + path + token) as reply:
                    assert reply.status == 401, path
                    assert "access token" in (await reply.json())["error"]
        async with http.post(base + "offer", json={"sdp": "v=0", "type": "offer"}) as reply:
            assert reply.status == 401

    run(wide_server, scenario)


def test_a_viewer_reads_but_cannot_send_audio_export_or_rename(wide_server):
    viewer = wide_server.policy.viewer_token

    async def scenario(http: aiohttp.ClientSession, base: str) -> None:
        async with http.get(base + f"?token={viewer}") as reply:  # cookie, then the page
            assert reply.status == 200 and "roomtone" in await reply.text()
            assert reply.url.query_string == "", "the token leaves the address bar"
        async with http.ws_connect(base + "ws") as ws:  # the cookie carries the token
            hello = await ws.receive_json(timeout=5)
            assert hello["role"] == "viewer"
            assert hello["microphone"] is False and hello["export"] is False
            kinds = [(await ws.receive_json(timeout=5))["type"] for _ in range(3)]
            assert kinds == ["speaker", "caption", "caught_up"]
            assert hello["rename"] is False and hello["people"] is False
            for message in (
                {"type": "rename", "speaker": "S1", "name": "Eve"},
                {"type": "people", "names": "Eve, Mallory"},
            ):
                await ws.send_str(json.dumps(message))
                assert "only the presenter" in (await ws.receive_json(timeout=5))["message"]
        async with http.post(base + "offer", json={"sdp": "v=0", "type": "offer"}) as reply:
            assert reply.status == 403
        async with http.get(base + "export?format=json") as reply:
            assert reply.status == 403
        view = wide_server.view
        assert view.store.speaker_names(view.session_id) == {}
        assert not [e for e in view.store.events(view.session_id) if e["type"] == "people"]

    run(wide_server, scenario)


def test_the_presenter_exports_and_other_origins_are_refused(wide_server):
    presenter = wide_server.policy.presenter_token
    auth = {"Authorization": f"Bearer {presenter}"}

    async def scenario(http: aiohttp.ClientSession, base: str) -> None:
        async with http.get(base + "export?format=md", headers=auth) as reply:
            assert reply.status == 200 and "secret plans" in await reply.text()
        evil = {**auth, "Origin": "http://evil.example"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(base + "ws", headers=evil)
        assert refused.value.status == 403
        async with http.post(base + "offer", json={}, headers=evil) as reply:
            assert reply.status == 403
        own = {**auth, "Origin": base.rstrip("/")}
        async with http.ws_connect(base + "ws", headers=own) as ws:
            assert (await ws.receive_json(timeout=5))["role"] == "presenter"

    run(wide_server, scenario)


def test_too_many_requests_and_connections_are_limited(wide_server):
    auth = {"Authorization": f"Bearer {wide_server.policy.viewer_token}"}

    async def scenario(http: aiohttp.ClientSession, base: str) -> None:
        sockets = []
        for _ in range(MAX_SOCKETS_PER_CLIENT):
            sockets.append(await http.ws_connect(base + "ws", headers=auth))
            await asyncio.sleep(0.06)  # under the request rate
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(base + "ws", headers=auth)
        assert refused.value.status == 429
        for ws in sockets:
            await ws.close()
        statuses = []
        for _ in range(80):
            async with http.get(base + "page/style.css", headers=auth) as reply:
                statuses.append(reply.status)
        assert 429 in statuses and statuses[0] == 200
        # A flood of WebSocket messages is told to slow down, and the socket stays.
        await asyncio.sleep(2.5)  # the request bucket refills
        async with http.ws_connect(base + "ws", headers=auth) as ws:
            for _ in range(30):
                await ws.send_str(json.dumps({"type": "noop"}))
            replies = []
            while len(replies) < 30:
                message = await ws.receive_json(timeout=5)
                if message["type"] == "error":
                    replies.append(message["message"])
            assert any("slow down" in r for r in replies)
            assert not ws.closed

    run(wide_server, scenario)
