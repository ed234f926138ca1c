"""The session timeline: an append-only event log in SQLite (WAL).

Every event is committed as it happens, so a crash loses at most the event being
written. A database file can hold many sessions; each is reopened by its id.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..streaming.records import Caption, caption_from_event

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    created REAL NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    type TEXT NOT NULL,
    item_id TEXT,
    final INTEGER,
    start REAL,
    end REAL,
    emitted REAL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_session ON events(session_id, seq);
CREATE INDEX IF NOT EXISTS events_by_item ON events(session_id, item_id);
"""


class SessionNotFoundError(LookupError):
    """No such session in the database."""


@dataclass(frozen=True)
class SessionInfo:
    """One row of the session list."""

    id: int
    title: str
    source: str
    created: float
    events: int
    captions: int
    last_time: float


class SessionStore:
    """An SQLite file of sessions and their events."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a directory, not a session database")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise sqlite3.DatabaseError(
                f"{self.path} is not a roomtone session database: {exc}"
            ) from exc

    def close(self) -> None:
        """Close the database (everything is already committed)."""
        self._db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_session(self, title: str, source: str, meta: dict[str, Any] | None = None) -> int:
        """A new, empty session; returns its id."""
        cur = self._db.execute(
            "INSERT INTO sessions(title, source, created, meta) VALUES (?, ?, ?, ?)",
            (title, source, time.time(), json.dumps(meta or {})),
        )
        return int(cur.lastrowid or 0)

    def latest_session(self) -> int:
        """The id of the newest session."""
        row = self._db.execute("SELECT MAX(id) FROM sessions").fetchone()
        if row is None or row[0] is None:
            raise SessionNotFoundError(f"{self.path} holds no sessions yet")
        return int(row[0])

    def check_session(self, session_id: int) -> int:
        """``session_id`` if it exists, else a clear error."""
        row = self._db.execute("SELECT id FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise SessionNotFoundError(f"{self.path} has no session {session_id}")
        return session_id

    def append(self, session_id: int, event: dict[str, Any]) -> int:
        """Append one event (committed at once); returns its sequence number."""
        cur = self._db.execute(
            "INSERT INTO events(session_id, type, item_id, final, start, end, emitted, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session_id,
                event["type"],
                event.get("id"),
                None if "final" not in event else int(bool(event["final"])),
                event.get("start", event.get("at")),
                event.get("end"),
                event.get("emitted"),
                json.dumps(event, separators=(",", ":")),
            ),
        )
        return int(cur.lastrowid or 0)

    def last_seq(self, session_id: int) -> int:
        """The sequence number of the session's newest event (0 before the first)."""
        row = self._db.execute(
            "SELECT MAX(seq) FROM events WHERE session_id = ?", (session_id,)
        ).fetchone()
        return int(row[0] or 0)

    def events(
        self, session_id: int, types: tuple[str, ...] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every event of a session in the order it was appended."""
        query = "SELECT payload FROM events WHERE session_id = ?"
        args: list[Any] = [session_id]
        if types:
            query += f" AND type IN ({','.join('?' * len(types))})"
            args += list(types)
        for (payload,) in self._db.execute(query + " ORDER BY seq", args):
            yield json.loads(payload)

    def final_captions(self, session_id: int) -> list[Caption]:
        """The captions a reader is left with: the last final version of each id, in time order."""
        latest: dict[str, Caption] = {}
        for event in self.events(session_id, ("caption",)):
            if event.get("final"):
                latest[str(event["id"])] = caption_from_event(event)
        return sorted((c for c in latest.values() if c.words), key=lambda c: (c.start, c.id))

    def speaker_names(self, session_id: int) -> dict[str, str]:
        """Names people gave the speaker labels (S1 -> "Alice"); the latest rename wins."""
        return {e["speaker"]: e["name"] for e in self.events(session_id, ("name",))}

    def speaker_labels(self, session_id: int) -> list[str]:
        """Speaker labels the session's speaker turns use, in label order."""
        latest: dict[str, str] = {}
        for event in self.events(session_id, ("speaker",)):
            latest[str(event.get("id"))] = event["speaker"]
        return sorted(set(latest.values()), key=lambda s: (len(s), s))

    def rename_speaker(self, session_id: int, label: str, name: str) -> dict[str, Any]:
        """Give speaker ``label`` a name; kept in the session as the ``name`` event returned."""
        name = " ".join(name.split())
        if not name or len(name) > 40:
            raise ValueError("a speaker name must be 1 to 40 characters")
        labels = self.speaker_labels(self.check_session(session_id))
        if label not in labels:
            known = ", ".join(labels) or "none yet"
            raise ValueError(f"session {session_id} has no speaker {label!r} (speakers: {known})")
        event = {"type": "name", "speaker": label, "name": name}
        self.append(session_id, event)
        return event

    def set_people(self, session_id: int, names: list[str]) -> dict[str, Any]:
        """Say who is in the meeting; kept as the ``people`` event returned (the latest wins)."""
        from .people import parse_people

        event = {"type": "people", "names": parse_people(", ".join(names))}
        self.append(self.check_session(session_id), event)
        return event

    def sessions(self) -> list[SessionInfo]:
        """Every session in the file, oldest first."""
        rows = self._db.execute(
            "SELECT s.id, s.title, s.source, s.created,"
            " COUNT(e.seq), SUM(CASE WHEN e.type = 'caption' AND e.final = 1 THEN 1 ELSE 0 END),"
            " COALESCE(MAX(COALESCE(e.end, e.start)), 0)"
            " FROM sessions s LEFT JOIN events e ON e.session_id = s.id"
            " GROUP BY s.id ORDER BY s.id"
        ).fetchall()
        return [SessionInfo(r[0], r[1], r[2], r[3], r[4], r[5] or 0, r[6] or 0.0) for r in rows]

    def session_info(self, session_id: int) -> SessionInfo:
        """One session's row of the list (SessionNotFoundError if there is none)."""
        for info in self.sessions():
            if info.id == session_id:
                return info
        raise SessionNotFoundError(f"no session {session_id} in {self.path}")

    def session_meta(self, session_id: int) -> dict[str, Any]:
        """Title, source, creation time and free-form metadata of a session."""
        row = self._db.execute(
            "SELECT title, source, created, meta FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if row is None:
            raise SessionNotFoundError(f"{self.path} has no session {session_id}")
        return {
            "id": session_id,
            "title": row[0],
            "source": row[1],
            "created": row[2],
            **json.loads(row[3]),
        }
