"""`roomtone ask` / `actions` errors that need no model: they are clear and touch nothing."""

import pytest

from roomtone.assistant.store import SessionStore
from roomtone.cli import main


@pytest.fixture
def session(tmp_path):
    db = tmp_path / "s.db"
    with SessionStore(db) as store:
        sid = store.create_session("test", "file:test.wav")
        store.append(
            sid,
            {
                "type": "caption",
                "id": "c1",
                "final": True,
                "start": 1.0,
                "end": 2.0,
                "text": "Hello everyone.",
                "speaker": "S1",
                "words": [
                    {"text": "Hello", "start": 1.0, "end": 1.4},
                    {"text": "everyone.", "start": 1.5, "end": 2.0},
                ],
                "emitted": 2.5,
            },
        )
    return db


def events(db):
    with SessionStore(db) as store:
        return list(store.events(store.latest_session()))


def test_an_unreachable_endpoint_is_a_clear_error(session, capsys):
    before = events(session)
    assert main(["ask", str(session), "What was said?", "--endpoint", "http://127.0.0.1:9/v1"]) == 2
    assert "cannot reach http://127.0.0.1:9/v1" in capsys.readouterr().err
    assert events(session) == before


def test_a_missing_session_file_is_a_clear_error(tmp_path, capsys):
    assert main(["actions", str(tmp_path / "none.db")]) == 2
    assert "none.db" in capsys.readouterr().err


def test_a_since_that_is_not_a_time_is_a_clear_error(session, capsys):
    assert main(["ask", str(session), "What was said?", "--since", "soon"]) == 2
    assert "mm:ss" in capsys.readouterr().err
