"""Nothing lost: `kill -9` at 20 random moments of a replay, then resume, each time.

Half the kills fall at any moment of a run (model loading included); the other half
fall a random while after the run acknowledged its first event, so they land mid-capture
on a slow machine as on a fast one. Every event a run acknowledged (its line in the
--events log, written after the SQLite commit) must still be in the session after the
kill; the session stays one session, the database stays sound, and each resumed run
continues the same session clock after the gap its notice names.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from roomtone.assistant.store import SessionStore

pytestmark = pytest.mark.slow

KILLS = 20


def canonical(event: dict) -> str:
    return json.dumps(event, sort_keys=True)


def acknowledged(log_text: str) -> list[dict]:
    """Complete lines only: a line cut by the kill was never acknowledged."""
    lines = log_text.split("\n")
    return [json.loads(line) for line in lines[:-1] if line]


def event_time(event: dict) -> float | None:
    return event.get("start", event.get("at"))


def wait_for_first_acknowledged(
    log: Path, whole: int, proc: subprocess.Popen, limit_s: float = 180.0
) -> None:
    """Return once the run wrote a complete event line after the earlier runs' lines."""
    deadline = time.monotonic() + limit_s
    while proc.poll() is None and time.monotonic() < deadline:
        if log.exists() and acknowledged(log.read_text()[whole:]):
            return
        time.sleep(0.05)
    raise AssertionError(f"the run acknowledged nothing in {limit_s:.0f} s (exit {proc.poll()})")


def test_kill_9_at_random_points_then_resume(clip_30s, tmp_path):
    db, log = tmp_path / "s.db", tmp_path / "events.jsonl"
    rng = random.Random(20261123)
    base = [sys.executable, "-m", "roomtone.cli", "replay", str(clip_30s), "--fast", "--quiet",
            "--session", str(db), "--events", str(log), "--keep-audio"]  # fmt: skip
    report = []
    for kill in range(KILLS + 1):
        resuming = db.exists() and SessionStore(db).sessions() != []
        before = log.read_text() if log.exists() else ""
        whole = before.rfind("\n") + 1  # a torn last line is cut by the resumed run
        proc = subprocess.Popen(
            base + (["--resume"] if resuming else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        mid_capture = kill % 2 == 1
        if mid_capture and kill < KILLS:
            wait_for_first_acknowledged(log, whole, proc)
            delay = rng.uniform(0.0, 4.0)
        else:
            delay = rng.uniform(1.0, 14.0)
        if kill < KILLS:
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
        if kill == KILLS:
            assert proc.returncode == 0, err[-2000:]
        text = log.read_text() if log.exists() else ""
        assert text[:whole] == before[:whole], "acknowledged lines are never rewritten"
        run_events = acknowledged(text[whole:])
        with SessionStore(db) as store:
            sessions = store.sessions()
            stored = {canonical(e) for e in store.events(sessions[0].id)} if sessions else set()
        lost = [e for e in run_events if canonical(e) not in stored]
        assert not lost, f"kill {kill} after {delay:.1f} s lost {len(lost)} events: {lost[:2]}"
        assert len(sessions) <= 1, "one meeting, one session"
        with sqlite3.connect(db) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        notice = next((e for e in run_events if e.get("resumed")), None)
        if resuming and notice is not None:
            gap = notice["gap"]
            assert gap["end"] > gap["start"]
            later = [t for e in run_events if e is not notice and (t := event_time(e)) is not None]
            assert all(t >= gap["end"] - 0.05 for t in later), "the clock goes on after the gap"
        if mid_capture and resuming:
            assert notice is not None, f"kill {kill}: a resumed run that captured says so"
        report.append((kill, round(delay, 1), resuming, len(run_events)))
    print("kill, s after start (odd kills: after the first event), resumed, events:", report)
    with SessionStore(db) as store:
        sid = store.latest_session()
        resumes = [e for e in store.events(sid, ("notice",)) if e.get("resumed")]
        times = [t for e in store.events(sid) if (t := event_time(e)) is not None]
        captions = store.final_captions(sid)
    # A run killed while still loading its models had not resumed yet (nothing to note).
    noted = sum(1 for _, _, resumed, n in report if resumed and n > 0)
    assert noted <= len(resumes) <= sum(1 for _, _, resumed, _ in report if resumed)
    assert noted >= KILLS // 2, "the mid-capture kills and the last run all resumed"
    assert [r["gap"]["start"] for r in resumes] == sorted(r["gap"]["start"] for r in resumes)
    assert max(times) > resumes[-1]["gap"]["end"], "the last run captioned after its gap"
    assert any("Bob" in c.text or "database" in c.text for c in captions)
    # The raw audio kept through every kill is a readable WAV reaching the last caption.
    audio, rate = sf.read(db.with_suffix(".session1.wav"))
    assert rate == 16000 and audio.size / rate >= max(c.end for c in captions) - 1.0
