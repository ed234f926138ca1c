"""The session store on real SQLite: append-only, WAL, finals replace partials, reopen."""

import sqlite3

import pytest

from roomtone.assistant.store import SessionNotFoundError, SessionStore
from roomtone.streaming.records import Caption, Word


def cap(cid: str, final: bool, text: str, start: float) -> dict:
    ws = tuple(Word(t, start + i * 0.4, start + i * 0.4 + 0.3) for i, t in enumerate(text.split()))
    return Caption(cid, final, ws, emitted=start + 1).to_event()


def test_events_survive_reopening_and_finals_replace_partials(tmp_path):
    db = tmp_path / "s.db"
    with SessionStore(db) as store:
        sid = store.create_session("standup", "file:x.flac")
        store.append(sid, cap("c1", False, "the launch", 1.0))
        store.append(sid, cap("c1", True, "the launch is", 1.0))
        store.append(sid, cap("c2", False, "on friday", 3.0))
    with SessionStore(db) as store:
        assert store.latest_session() == sid
        finals = store.final_captions(sid)
        assert [c.text for c in finals] == ["the launch is"]
        assert len(list(store.events(sid))) == 3
        assert store.sessions()[0].captions == 1


def test_wal_mode_and_each_event_is_committed_at_once(tmp_path):
    db = tmp_path / "s.db"
    store = SessionStore(db)
    sid = store.create_session("t", "mic")
    store.append(sid, cap("c1", True, "hello", 0.5))
    # A second connection (another process after a crash) sees it without any close().
    other = sqlite3.connect(db)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    other.close()
    store.close()


def test_sessions_are_separate(tmp_path):
    with SessionStore(tmp_path / "s.db") as store:
        a = store.create_session("a", "mic")
        b = store.create_session("b", "mic")
        store.append(a, cap("c1", True, "only in a", 0))
        assert store.final_captions(b) == []
        assert [s.title for s in store.sessions()] == ["a", "b"]


def test_unknown_session_and_non_database_are_clear_errors(tmp_path):
    with SessionStore(tmp_path / "s.db") as store, pytest.raises(SessionNotFoundError):
        store.check_session(42)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(sqlite3.DatabaseError, match="not a roomtone session database"):
        SessionStore(junk)
