"""One meeting, many viewers: the session's events kept for late joiners and pushed to all.

The hub is a pipeline listener. It keeps the session as a reader needs it (the latest
version of each caption, turn and sound, every flag, name and notice, in order) so a
viewer who joins late, or reconnects, first gets the meeting so far, then everything
new. A viewer too slow to keep up is dropped (its page reconnects and catches up);
it never slows the meeting down for anyone else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

VIEWER_QUEUE = 2000  # events a viewer may fall behind before it is dropped
MAX_VIEWERS = 200


class TooManyViewersError(RuntimeError):
    """The meeting has as many viewers as it serves."""


def event_key(event: dict[str, Any], serial: int) -> tuple[str, str]:
    """Events that replace each other share a key (a caption's partials and finals)."""
    kind = event.get("type", "")
    if kind in ("caption", "speaker", "sound") and "id" in event:
        return kind, str(event["id"])
    if kind == "emotion" and "turn" in event:
        return kind, str(event["turn"])
    return kind, f"#{serial}"


class Viewer:
    """One connected viewer's queue of events to send."""

    def __init__(self) -> None:
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


class EventHub:
    """The session's events, compacted, and the viewers they go to."""

    def __init__(self, history: Iterable[dict[str, Any]] = (), max_viewers: int = MAX_VIEWERS):
        self._latest: dict[tuple[str, str], dict[str, Any]] = {}
        self._serial = 0
        self._viewers: set[Viewer] = set()
        self.max_viewers = max_viewers
        self.clock_origin: float | None = None  # Unix time of session second 0, when live
        for event in history:
            self._keep(event)

    def __call__(self, event: dict[str, Any]) -> None:
        """Take one pipeline event and push it to every viewer."""
        emitted = event.get("emitted")
        if isinstance(emitted, int | float) and self.clock_origin is None:
            self.clock_origin = time.time() - float(emitted)
            self._push({"type": "clock", "origin": self.clock_origin})
        self._keep(event)
        self._push(event)

    @property
    def viewers(self) -> int:
        """How many viewers are connected."""
        return len(self._viewers)

    def history(self) -> list[dict[str, Any]]:
        """The meeting so far, one event per caption, turn, sound and flag."""
        return list(self._latest.values())

    def join(self) -> Viewer:
        """A new viewer; :class:`TooManyViewersError` when the hub is full."""
        if len(self._viewers) >= self.max_viewers:
            raise TooManyViewersError(f"this meeting already has {self.max_viewers} viewers")
        viewer = Viewer()
        self._viewers.add(viewer)
        return viewer

    def leave(self, viewer: Viewer) -> None:
        """A viewer went away."""
        self._viewers.discard(viewer)

    def _push(self, event: dict[str, Any]) -> None:
        for viewer in list(self._viewers):
            viewer.offer(event)
            if viewer.dropped:
                self._viewers.discard(viewer)

    def _keep(self, event: dict[str, Any]) -> None:
        self._serial += 1
        key = event_key(event, self._serial)
        self._latest.pop(key, None)  # a replaced event moves to where its news is
        self._latest[key] = event
