"""One meeting, many viewers: the session's events pushed to all, the past read from disk.

The hub is a pipeline listener placed after the session recorder, so every event it
hears is already in the session database. A viewer who joins late, or reconnects,
first gets the meeting so far as a reader needs it (the latest version of each
caption, turn and sound, every flag, name and notice, in order), read from the
database rather than held in memory, so a long meeting costs the server no more
memory than a short one. Then it gets everything new. A viewer too slow to keep up
is dropped (its page reconnects and catches up); it never slows the meeting down for
anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from typing import Any

from ..assistant.store import SessionStore

VIEWER_QUEUE = 2000  # events a viewer may fall behind before it is dropped
MAX_VIEWERS = 200


class TooManyViewersError(RuntimeError):
    """The meeting has as many viewers as it serves."""


def event_key(event: dict[str, Any], serial: int) -> tuple[str, str]:
    """Events that replace each other share a key (a caption's partials and finals)."""
    kind = event.get("type", "")
    if kind in ("caption", "speaker", "sound") and event.get("id") is not None:
        return kind, str(event["id"])
    if kind == "emotion" and "turn" in event:
        return kind, str(event["turn"])
    return kind, f"#{serial}"


class Viewer:
    """One connected viewer: where its history ends and its queue of news begins."""

    def __init__(self, history_upto: int) -> None:
        self.history_upto = history_upto  # the last stored event this viewer's history holds
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=VIEWER_QUEUE)
        self.dropped = False

    def offer(self, event: dict[str, Any]) -> None:
        """Queue an event; a viewer whose queue is full is dropped."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            self.queue = asyncio.Queue(maxsize=1)
            self.queue.put_nowait(None)  # tells its sender to hang up


def read_history(db: SessionStore, session_id: int, upto: int) -> list[str]:
    """The meeting up to event ``upto``, compacted, as stored JSON, oldest news first.

    Opens its own read-only connection, so it may run in a worker thread while the
    meeting goes on writing.
    """
    uri = db.path.resolve().as_uri() + "?mode=ro"
    latest: dict[tuple[str, str], str] = {}
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        rows = conn.execute(
            "SELECT seq, type, item_id, payload FROM events"
            " WHERE session_id = ? AND seq <= ? ORDER BY seq",
            (session_id, upto),
        )
        for seq, kind, item_id, payload in rows:
            probe = json.loads(payload) if kind == "emotion" else {"type": kind, "id": item_id}
            key = event_key(probe, seq)
            latest.pop(key, None)  # a replaced event moves to where its news is
            latest[key] = payload
    return list(latest.values())


class EventHub:
    """The viewers of one stored session, and the news that goes to them."""

    def __init__(self, store: SessionStore, session_id: int, max_viewers: int = MAX_VIEWERS):
        self.store, self.session_id = store, store.check_session(session_id)
        self._viewers: set[Viewer] = set()
        self.max_viewers = max_viewers
        self.clock_origin: float | None = None  # Unix time of session second 0, when live

    def __call__(self, event: dict[str, Any]) -> None:
        """Push one event, already in the session store, to every viewer."""
        emitted = event.get("emitted")
        if isinstance(emitted, int | float) and self.clock_origin is None:
            self.clock_origin = time.time() - float(emitted)
            self._push({"type": "clock", "origin": self.clock_origin})
        self._push(event)

    @property
    def viewers(self) -> int:
        """How many viewers are connected."""
        return len(self._viewers)

    def join(self) -> Viewer:
        """A new viewer; :class:`TooManyViewersError` when the hub is full."""
        if len(self._viewers) >= self.max_viewers:
            raise TooManyViewersError(f"this meeting already has {self.max_viewers} viewers")
        viewer = Viewer(self.store.last_seq(self.session_id))
        self._viewers.add(viewer)
        return viewer

    def history(self, viewer: Viewer) -> list[str]:
        """The meeting so far as this viewer joined it (its news follows on the queue)."""
        return read_history(self.store, self.session_id, viewer.history_upto)

    def leave(self, viewer: Viewer) -> None:
        """A viewer went away."""
        self._viewers.discard(viewer)

    def _push(self, event: dict[str, Any]) -> None:
        for viewer in list(self._viewers):
            viewer.offer(event)
            if viewer.dropped:
                self._viewers.discard(viewer)
