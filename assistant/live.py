"""The assistant beside a live session: memory kept in step as events arrive, asks answered.

The pipeline hands every event to :class:`LiveAssistant` (a listener, like the
recorder); a worker thread extends the cached prefix as lines close, so a question
asked at minute 60 pays only for itself. Questions come from the UIs in the same
process, or from ``roomtone ask`` in another one over a local socket that only this
user can open (:func:`ask_socket_path`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import socketserver
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loguru import logger

from ..plugins.base import ModelClosedError, PrefixLLM
from .memory import Answer, MeetingMemory
from .transcript import Transcript

UPDATE_EVERY_S = 2.0
MAX_REQUEST_BYTES = 16_384


def ask_socket_path(db: str | Path, session_id: int) -> Path:
    """Where the live process for ``session_id`` in ``db`` listens for questions."""
    key = hashlib.sha1(str(Path(db).resolve()).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"roomtone-{os.getuid()}"
    return folder / f"{key}-{session_id}.sock"


class LiveAssistant:
    """Follows a session's events and answers questions about it while it goes on."""

    def __init__(self, llm: PrefixLLM) -> None:
        self.transcript = Transcript()
        self.memory = MeetingMemory(llm)
        self._events_lock = threading.Lock()
        self._changed = threading.Event()
        self._stopped = threading.Event()
        self._worker = threading.Thread(target=self._follow, name="assistant", daemon=True)
        self._worker.start()
        self._server: socketserver.BaseServer | None = None
        self._socket_path: Path | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        """Take one pipeline event (cheap: the worker does the model's part)."""
        with self._events_lock:
            self.transcript.add(event)
        self._changed.set()

    def snapshot(self) -> Transcript:
        """The transcript as it stands now (safe to read while events keep coming)."""
        with self._events_lock:
            return self.transcript.copy()

    def ask(
        self,
        question: str,
        since: float | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer a question about the meeting so far (a ValueError for an empty one).

        ``on_text`` gets the answer as it is written, for a reader who is waiting.
        """
        transcript = self.snapshot()
        if not transcript.lines():
            return Answer("Nothing has been said yet.", [], 0.0, 0.0, 0)
        if since is not None and since > transcript.heard_until:
            raise ValueError("that time is after the end of the meeting so far")
        return self.memory.answer(question, transcript, since=since, on_text=on_text)

    def serve(self, path: Path) -> None:
        """Answer ``roomtone ask`` from other processes on a Unix socket at ``path``."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.parent.stat().st_uid != os.getuid():  # a folder someone else made for us
            raise PermissionError(f"{path.parent} belongs to another user; not asking there")
        os.chmod(path.parent, 0o700)  # only this user may ask
        path.unlink(missing_ok=True)
        assistant = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    reply = assistant._reply(self.rfile.readline(MAX_REQUEST_BYTES))
                except ModelClosedError:  # the session ended mid-answer and freed it
                    return  # no reply: the asker answers from the stored session instead
                self.wfile.write(json.dumps(reply).encode() + b"\n")

        self._server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
        self._server.daemon_threads = True
        self._socket_path = path
        threading.Thread(target=self._server.serve_forever, name="ask-socket", daemon=True).start()

    def close(self) -> None:
        """Stop answering and following (the session itself is the store's)."""
        self._stopped.set()
        self._changed.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._socket_path is not None:
            self._socket_path.unlink(missing_ok=True)
        self._worker.join(timeout=30)

    def _reply(self, raw: bytes) -> dict[str, Any]:
        try:
            request = json.loads(raw)
            question = str(request["question"])
            since = request.get("since")
            answer = self.ask(question, float(since) if since is not None else None)
        except (ValueError, KeyError, TypeError) as exc:
            return {"error": f"bad question: {exc}"}
        return answer.to_json()

    def _follow(self) -> None:
        while not self._stopped.is_set():
            self._changed.wait()
            if self._stopped.is_set():
                return
            self._changed.clear()
            try:
                self.memory.update(self.snapshot())
            except Exception as exc:  # the captions go on; the next update tries again
                logger.warning(f"assistant memory update failed: {exc}")
            self._stopped.wait(UPDATE_EVERY_S)


def ask_live(path: Path, question: str, since: float | None, timeout: float = 120.0) -> dict:
    """Ask the live process listening at ``path``; OSError if none is there."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(path))
        conn.sendall(json.dumps({"question": question, "since": since}).encode() + b"\n")
        reply = conn.makefile("rb").readline()
    if not reply:
        raise OSError("the live session closed the connection")
    return json.loads(reply)
