"""The browser face: the page, the WebRTC offer endpoint and the event WebSocket.

``GET /`` the page · ``POST /offer`` a WebRTC SDP offer, answered with the SDP answer
(only while live with ``--web``) · ``GET /ws`` pushes the session's events (the meeting
so far first, then ``{"type": "caught_up"}``) and takes questions, renames and people ·
``GET /export?format=md`` the session as a file. Bad requests get a 4xx with a JSON
``error``; the meeting goes on.

WebSocket messages from a page (JSON): ``{"type": "ask", "id": "q1", "question": "...",
"since": 63.0}`` -> ``{"type": "answer_text", "id", "text"}`` while it is written, then
``{"type": "answer", "id", "answer", "citations": [...]}``; ``{"type": "rename",
"speaker": "S1", "name": "Alice"}`` -> a ``name`` event to everyone; ``{"type": "people",
"names": "Kevin, Laura, Malik"}`` (who is in the meeting, names spelled their way) -> a
``people`` event to everyone. Renames and people come from the presenter, while live.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aiohttp import WSMsgType, web
from loguru import logger

from ..assistant.export import FORMATS, export_name, render
from ..assistant.store import SessionStore
from ..streaming.senders import SenderBusyError
from ..streaming.webrtc_source import OfferError, WebRTCAudioSource
from .access import TOKEN_COOKIE, AccessPolicy, RateLimiter, Role, same_origin
from .hub import EventHub, TooManyViewersError

Asker = Callable[..., Any]
MAX_WS_MESSAGE = 16 * 1024
MAX_QUESTION_CHARS = 500
MAX_OFFER_BYTES = 64 * 1024
MAX_SOCKETS_PER_CLIENT = 50
PRESENTER_ONLY = ("/offer", "/export")
_MEDIA = {"md": "text/markdown", "json": "application/json", "srt": "text/plain", "vtt": "text/vtt"}


@dataclass
class MeetingView:
    """What the server shows and lets people do."""

    hub: EventHub
    store: SessionStore
    session_id: int
    title: str
    live: bool  # a meeting going on now (False: a past session, read-only)
    audio: WebRTCAudioSource | None = None  # a browser microphone may send (live --web)
    ask: Asker | None = None  # answers questions: (question, since, on_text) -> Answer
    followers: tuple[Callable[[dict[str, Any]], None], ...] = ()  # told of renames, people


def page_file(name: str) -> bytes:
    """A file of the page, from the installed package."""
    return resources.files("roomtone.ui").joinpath("page", name).read_bytes()


class WebServer:
    """Serves one meeting to any number of browsers on ``host:port``."""

    def __init__(
        self,
        view: MeetingView,
        host: str = "127.0.0.1",
        port: int = 8000,
        policy: AccessPolicy | None = None,
    ) -> None:
        self.view, self.host, self.port = view, host, port
        self.policy = policy or AccessPolicy.for_host(host)
        self._runner: web.AppRunner | None = None
        self._sockets: dict[web.WebSocketResponse, str] = {}  # socket -> client address
        self._ask_lock = asyncio.Lock()
        self._asking: set[web.WebSocketResponse] = set()  # connections with a question out
        self._requests = RateLimiter(rate=20.0, burst=40.0)  # per client, every request

    @property
    def url(self) -> str:
        """Where the page is."""
        return f"http://{self.host}:{self.port}/"

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=MAX_OFFER_BYTES, middlewares=[self._guard])
        app.router.add_get("/", self._page)
        app.router.add_get("/page/{name}", self._asset)
        app.router.add_post("/offer", self._offer)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/export", self._export)
        return app

    async def start(self) -> str:
        """Start serving; returns the page's URL (the real port when 0 was asked)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # the bound socket tells the port when 0 was asked
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        """Close every viewer and stop serving."""
        for ws in list(self._sockets):  # a copy: closing removes them
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"the meeting ended")
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Rate, token, role and origin checks before any handler runs."""
        client = request.remote or "?"
        if not self._requests.allow(client):
            return _error(429, "too many requests; slow down")
        token = (
            request.query.get("token")
            or request.cookies.get(TOKEN_COOKIE)
            or request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            or None
        )
        role = self.policy.role(token)
        if role is None:
            return _error(401, "this meeting needs its access token (?token=...)")
        if request.path in PRESENTER_ONLY and role is not Role.PRESENTER:
            return _error(403, "only the presenter may send audio or export")
        if request.path in ("/ws", "/offer") and not same_origin(
            request.headers.get("Origin"), request.host
        ):
            return _error(403, "cross-origin requests are refused")
        request["role"] = role
        return await handler(request)

    async def _page(self, request: web.Request) -> web.Response:
        token = request.query.get("token")
        if token is not None and not self.policy.open:
            # Keep the token in a cookie and take it out of the address bar.
            response = web.HTTPFound("/")
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
            raise response
        return web.Response(body=page_file("index.html"), content_type="text/html")

    async def _asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {"app.js": "text/javascript", "style.css": "text/css"}
        if name not in types:
            raise web.HTTPNotFound()
        return web.Response(body=page_file(name), content_type=types[name])

    async def _offer(self, request: web.Request) -> web.Response:
        if self.view.audio is None:
            return _error(409, "this meeting takes no browser microphone (start it with --web)")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the offer is not JSON")
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"the offer is larger than {MAX_OFFER_BYTES} bytes")
        try:
            answer = await self.view.audio.accept_offer(body)
        except OfferError as exc:
            return _error(400, str(exc))
        except SenderBusyError as exc:
            return _error(409, str(exc))
        return web.json_response(answer)

    async def _export(self, request: web.Request) -> web.Response:
        fmt = request.query.get("format", "md")
        if fmt not in FORMATS:
            return _error(400, f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
        text = render(self.view.store, self.view.session_id, fmt)
        name = export_name(self.view.session_id, fmt)
        return web.Response(
            text=text,
            content_type=_MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        client = request.remote or "?"
        if sum(1 for c in self._sockets.values() if c == client) >= MAX_SOCKETS_PER_CLIENT:
            return _error(429, f"at most {MAX_SOCKETS_PER_CLIENT} connections from one address")
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=20)
        await ws.prepare(request)
        try:
            viewer = self.view.hub.join()
        except TooManyViewersError as exc:
            await ws.send_json({"type": "error", "message": str(exc)})
            await ws.close(code=1013, message=b"too many viewers")
            return ws
        self._sockets[ws] = client
        role = request["role"]
        sender = asyncio.create_task(self._push(ws, viewer, role))
        messages = RateLimiter(rate=2.0, burst=10.0)
        try:
            async for message in ws:
                if not messages.allow("ws"):
                    await _send(ws, {"type": "error", "message": "too many messages; slow down"})
                elif message.type == WSMsgType.TEXT:
                    await self._take(ws, message.data, role)
                elif message.type == WSMsgType.BINARY:
                    await _send(ws, {"type": "error", "message": "messages must be JSON text"})
        finally:
            self.view.hub.leave(viewer)
            self._sockets.pop(ws, None)
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        return ws

    def hello(self, role: Role = Role.PRESENTER) -> dict[str, Any]:
        """The first message a viewer gets: what this meeting is and what it may do."""
        presenter = role is Role.PRESENTER
        return {
            "role": role.value,
            "type": "hello",
            "session": self.view.session_id,
            "title": self.view.title,
            "live": self.view.live,
            "microphone": presenter and self.view.audio is not None,
            "export": presenter,
            "rename": presenter and self.view.live,
            "people": presenter and self.view.live,
            "assistant": self.view.ask is not None,
            "clock_origin": self.view.hub.clock_origin,
        }

    async def _push(self, ws: web.WebSocketResponse, viewer: Any, role: Role) -> None:
        """The meeting so far, then every new event, until the viewer goes."""
        try:
            await ws.send_json(self.hello(role))
            try:
                history = await asyncio.to_thread(self.view.hub.history, viewer)
            except sqlite3.Error as exc:  # the page says so and reconnects; the meeting goes on
                logger.warning(f"a viewer's history could not be read: {exc}")
                await ws.close(code=1011, message=b"the meeting so far could not be read")
                return
            for stored in history:
                await ws.send_str(stored)
            await ws.send_json({"type": "caught_up"})
            while (event := await viewer.queue.get()) is not None:
                await ws.send_json(event)
            await ws.close(code=1008, message=b"too far behind; reconnect to catch up")
        except (ConnectionResetError, RuntimeError):
            pass  # a viewer that vanished; the meeting goes on

    async def _take(self, ws: web.WebSocketResponse, raw: str, role: Role) -> None:
        """One message from a page."""
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            await _send(ws, {"type": "error", "message": "messages must be JSON"})
            return
        if not isinstance(message, dict):
            await _send(ws, {"type": "error", "message": "a message must be a JSON object"})
            return
        kind = message.get("type")
        if kind == "ask":
            if ws in self._asking:
                await _send(ws, _answer_error(str(message.get("id", ""))[:40],
                                              "one question at a time, please"))  # fmt: skip
                return
            self._asking.add(ws)
            task = asyncio.create_task(self._ask(ws, message))
            task.add_done_callback(lambda _: self._asking.discard(ws))
        elif kind in ("rename", "people") and role is not Role.PRESENTER:
            await _send(ws, {"type": "error", "message": f"only the presenter may send {kind}"})
        elif kind in ("rename", "people") and not self.view.live:
            await _send(ws, {"type": "error", "message": "a past meeting is read-only here"})
        elif kind == "rename":
            await self._rename(ws, message)
        elif kind == "people":
            await self._people(ws, message)
        else:
            await _send(ws, {"type": "error", "message": f"unknown message type {kind!r}"})

    async def _ask(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        qid = str(message.get("id", ""))[:40]
        question, since = message.get("question"), message.get("since")
        if self.view.ask is None:
            await _send(ws, _answer_error(qid, "the assistant is off (start with --assistant)"))
            return
        if not isinstance(question, str) or not question.strip():
            await _send(ws, _answer_error(qid, "ask a question"))
            return
        if len(question) > MAX_QUESTION_CHARS:
            await _send(ws, _answer_error(qid, f"keep questions under {MAX_QUESTION_CHARS} chars"))
            return
        if since is not None and (not isinstance(since, int | float) or since < 0):
            await _send(ws, _answer_error(qid, "since must be seconds from the start"))
            return
        loop = asyncio.get_running_loop()

        written: list[str] = []

        def on_text(piece: str) -> None:
            written.append(piece)
            payload = {"type": "answer_text", "id": qid, "text": "".join(written)}
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(_send(ws, payload)))

        async with self._ask_lock:  # one model, one question at a time
            try:
                answer = await asyncio.to_thread(self.view.ask, question, since, on_text)
            except ValueError as exc:
                await _send(ws, _answer_error(qid, str(exc)))
                return
            except Exception as exc:
                logger.warning(f"a question failed: {exc}")
                await _send(ws, _answer_error(qid, f"the assistant failed: {exc}"))
                return
        await _send(ws, {"type": "answer", "id": qid, "question": question, **answer.to_json()})

    async def _rename(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        speaker, name = message.get("speaker"), message.get("name")
        if not isinstance(speaker, str) or not isinstance(name, str):
            await _send(ws, {"type": "error", "message": "rename needs speaker and name"})
            return
        await self._keep(
            ws, lambda: self.view.store.rename_speaker(self.view.session_id, speaker, name)
        )

    async def _people(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        names = message.get("names")
        if not isinstance(names, str):
            await _send(ws, {"type": "error", "message": 'people needs names: "Kevin, Laura"'})
            return
        await self._keep(ws, lambda: self.view.store.set_people(self.view.session_id, [names]))

    async def _keep(self, ws: web.WebSocketResponse, store: Callable[[], dict[str, Any]]) -> None:
        """Keep an event in the session (``store`` writes and returns it), then tell everyone."""
        try:
            event = store()
        except ValueError as exc:
            await _send(ws, {"type": "error", "message": str(exc)})
            return
        self.view.hub(event)
        for follower in self.view.followers:
            follower(event)


async def _send(ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
    """Send if the viewer is still there."""
    if ws.closed:
        return
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await ws.send_json(payload)


def _answer_error(qid: str, message: str) -> dict[str, Any]:
    return {"type": "answer", "id": qid, "error": message}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
