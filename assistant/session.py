"""A live session: where the pipeline's events go (the store, an event log, listeners)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from .store import SessionStore


def drop_torn_line(path: Path) -> None:
    """Cut a last line that a crash left half-written (the event is in the database)."""
    if not path.is_file():
        return
    with open(path, "rb+") as log:
        data = log.read()
        if data and not data.endswith(b"\n"):
            log.truncate(data.rfind(b"\n") + 1)


class SessionRecorder:
    """Appends every event to the session store and, optionally, a JSON Lines log."""

    def __init__(
        self,
        store: SessionStore,
        session_id: int,
        events_path: Path | None = None,
        append: bool = False,
    ) -> None:
        self.store = store
        self.session_id = store.check_session(session_id)
        self._log: IO[str] | None = None
        if events_path is not None:
            events_path.parent.mkdir(parents=True, exist_ok=True)
            if append:
                drop_torn_line(events_path)
            mode = "a" if append else "w"  # a resumed session goes on in the same log
            self._log = open(events_path, mode, encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.counts: dict[str, int] = {}
        self._final_words: dict[str, int] = {}  # caption id -> words in its latest final

    def __call__(self, event: dict[str, Any]) -> None:
        """Record one event: committed to SQLite first, then the log line."""
        self.store.append(self.session_id, event)
        if self._log is not None:
            self._log.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
            self._log.flush()
        kind = event["type"] + (":final" if event.get("final") else "")
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if event["type"] == "caption" and event.get("final"):
            self._final_words[event["id"]] = len(event.get("words", []))

    @property
    def final_captions(self) -> int:
        """Captions a reader is left with (a revision replaces, it does not add)."""
        return sum(1 for n in self._final_words.values() if n)

    @property
    def final_words(self) -> int:
        """Words in those captions."""
        return sum(self._final_words.values())

    def close(self) -> None:
        """Close the event log (the store stays open for its owner)."""
        if self._log is not None:
            self._log.close()
            self._log = None
