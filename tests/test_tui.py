"""The terminal UI on a replayed meeting, driven as a person would.

Textual's Pilot drives the app while the real pipeline replays the first 28 s of
dev_m03 into it (rename, search, help, ask with the bundled LLM, export); tmux drives
the real `roomtone tui` command (captions scroll in, help, export, quit).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Static

from roomtone.assistant.ask import StoredSessionAsker
from roomtone.assistant.export import write
from roomtone.assistant.session import SessionRecorder
from roomtone.assistant.store import SessionStore
from roomtone.streaming.captioning import StreamingCaptioner
from roomtone.streaming.pipeline import run_pipeline
from roomtone.streaming.room_engines import EngineChoice, build_engines
from roomtone.streaming.sources import file_frames, until_stopped
from roomtone.ui.tui import CaptionApp, HelpScreen, PromptScreen, TuiSession

pytestmark = pytest.mark.slow


def lines_text(app: CaptionApp) -> list[str]:
    box = app.query_one("#captions")
    return [str(w.render()) for w in box.query(".line").results(Static) if w.display]


def test_pilot_replay_rename_search_ask_export(clip_30s, recognizer, tmp_path):
    from roomtone.plugins.llm_llamacpp import LlamaCppLLM

    store = SessionStore(tmp_path / "tui.db")
    sid = store.create_session("onboarding", "test")
    recorder = SessionRecorder(store, sid)
    from roomtone.assistant.ask import session_transcript

    llm = LlamaCppLLM("qwen2.5-coder-1.5b", context_tokens=4096)

    def ask(question, since, on_text):  # the meeting as stored so far
        return StoredSessionAsker(llm, session_transcript(store, sid))(question, since, on_text)

    session = TuiSession(
        title="onboarding",
        live=True,
        ask=ask,
        rename=lambda label, name: store.rename_speaker(sid, label, name),
        people=lambda names: store.set_people(sid, [names]),
        export=lambda folder: write(store, sid, "md", folder / "minutes.md"),
        export_dir=tmp_path,
    )

    analyzers, annotator = build_engines(EngineChoice())  # speakers, sounds, tone

    async def capture(listener, stop: asyncio.Event):
        frames = until_stopped(file_frames(clip_30s, realtime=False), stop)
        return await run_pipeline(
            frames,
            StreamingCaptioner(recognizer),
            [recorder, listener],
            realtime=False,
            analyzers=analyzers,
            annotator=annotator,
        )

    app = CaptionApp(session, capture)

    async def drive() -> None:
        async with app.run_test(size=(90, 18)) as pilot:
            for _ in range(600):
                if app.capture_result is not None:
                    break
                await pilot.pause(0.1)
            assert app.capture_result is not None, "the replay finished"
            await pilot.pause(0.5)
            text = "\n".join(lines_text(app))
            assert "Ivan" in text or "database" in text, text
            box = app.query_one("#captions")
            assert box.max_scroll_y > 0 and box.scroll_offset.y == box.max_scroll_y, "follows"

            # Rename: Tab to the legend, pick the first speaker, r, type, Enter.
            app.query_one("#legend").focus()
            await pilot.press("down", "up")
            label = app.query_one("#legend").highlighted_child.name
            await pilot.press("r")
            await pilot.pause()
            await pilot.press(*"Zed", "enter")
            await pilot.pause(0.5)
            assert store.speaker_names(sid)[label] == "Zed"
            assert any("Zed:" in line for line in lines_text(app))

            # Who is here: kept in the session; a bad list is an error, the good one stays.
            await pilot.press("w")
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            await pilot.press(*"Julia, 42", "enter")
            await pilot.pause(0.3)
            assert not [e for e in store.events(sid) if e["type"] == "people"]
            assert any("not a name" in n.message for n in app._notifications)
            await pilot.press("w")
            await pilot.pause()
            await pilot.press(*"Julia, Ivan Petrov", "enter")
            await pilot.pause(0.5)
            people = [e["names"] for e in store.events(sid) if e["type"] == "people"]
            assert people == [["Julia", "Ivan Petrov"]]
            assert app.transcript.people == ["Julia", "Ivan Petrov"]

            # Search narrows the captions; Esc brings them all back.
            everything = len(lines_text(app))
            await pilot.press("slash", *"database")
            await pilot.pause(0.3)
            found = lines_text(app)
            assert 0 < len(found) < everything and all("database" in t for t in found)
            await pilot.press("escape")
            await pilot.pause(0.3)
            assert len(lines_text(app)) == everything

            # Help, then ask with the keyboard and get a cited answer.
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.press("a", *"What does Ivan still not have access to?", "enter")
            for _ in range(1800):
                await pilot.pause(0.1)
                if app.last_answer is not None:
                    break
            answer = app.last_answer or ""
            assert "database" in answer.lower(), answer
            assert "database" in str(app.query_one("#answer").render()).lower()
            assert app.last_cited is not None and app.last_cited <= 28.0
            await pilot.press("escape", "j")  # go to the cited moment
            assert app.paused

            # Export writes the minutes file.
            await pilot.press("e")
            await pilot.pause(0.3)
            assert "Zed" in (tmp_path / "minutes.md").read_text()

    asyncio.run(drive())
    store.close()


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def wait_for_screen(target: str, text: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", target)
        if text in screen:
            return screen
        time.sleep(0.5)
    raise AssertionError(f"{text!r} never showed:\n{screen}")


def test_tmux_drives_the_real_command(clip_30s, tmp_path):
    if shutil.which("tmux") is None:
        pytest.fail("needs tmux: run .ci/setup")
    db, name = tmp_path / "t.db", f"roomtone-test-{time.monotonic_ns()}"
    done = tmp_path / "exit-code"
    command = (
        f"{sys.executable} -m roomtone.cli tui --replay {clip_30s} --session {db} "
        f"--export-dir {tmp_path}; echo $? > {done}"  # Textual draws on stderr: keep it
    )
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "30")
    try:
        tmux("send-keys", "-t", name, command, "Enter")
        wait_for_screen(name, "Speakers", 60)
        screen = wait_for_screen(name, "database", 90)  # captions scroll in as heard
        assert "[00:" in screen
        tmux("send-keys", "-t", name, "?")
        wait_for_screen(name, "roomtone keys", 10)
        tmux("send-keys", "-t", name, "Escape")
        time.sleep(0.5)
        tmux("send-keys", "-t", name, "e")
        wait_for_screen(name, "exported to", 10)
        tmux("send-keys", "-t", name, "q")
        deadline = time.monotonic() + 60
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert done.read_text().strip() == "0", tmux("capture-pane", "-p", "-t", name)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)
    minutes = Path(tmp_path / "roomtone-session-1.md").read_text()
    assert "database" in minutes
    with SessionStore(db) as store:
        assert store.final_captions(store.latest_session()), "the session kept its captions"
