"""A reader's page in a real browser: Chromium plays an eval meeting as its microphone.

`roomtone live --web --assistant` serves the page; headless Chromium (Debian's, driven
by playwright-core) captures dev_m01 as its fake microphone and sends it over WebRTC.
The captions the page shows must reach the live-caption WER bar, speakers get distinct
colours, a sound caption appears, and an answer's citation scrolls to its moment. The
same run measures contrast in every theme, 200% text and zoom, and keyboard reach.
Screenshots land in test-artifacts/web/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from roomtone.assistant.store import SessionStore
from roomtone.streaming.caption_metrics import wer
from roomtone.streaming.sources import decode_file

from .conftest import eval_truth

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "browser" / "meeting_in_chromium.mjs"
ARTIFACTS = ROOT / "test-artifacts" / "web"
MEETING = "dev_m01_launch"
QUESTION = "Who agreed to fix the open mobile app bugs, and by when?"


LIVE = ["live", "--web", "--quiet", "--assistant", "--title", "Launch sync", "--session"]


def start_server(args: list[str]) -> tuple[subprocess.Popen, str]:
    """`roomtone ARGS --port 0`; returns the process and the page's URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "roomtone.cli", *args, "--port", "0"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    for line in proc.stderr:
        found = re.search(r"the caption page is at (http://\S+)", line)
        if found:
            return proc, found.group(1)
    raise AssertionError(f"the server did not start (rc {proc.wait()})")


@pytest.fixture(scope="module")
def page_run(eval_dir, tmp_path_factory, recognizer):
    if shutil.which("node") is None or not Path("/usr/bin/chromium").exists():
        pytest.fail("needs node and Debian's chromium: run .ci/setup")
    tmp = tmp_path_factory.mktemp("web")
    audio = decode_file(eval_dir / f"{MEETING}.flac")
    wav = tmp / "meeting.wav"  # 4 s of quiet at the end lets the last words settle
    sf.write(wav, np.concatenate([audio, np.zeros(4 * 16000, audio.dtype)]), 16000)
    seconds = audio.size / 16000 + 4
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url = start_server([*LIVE, str(tmp / "s.db")])
    try:
        done = subprocess.run(
            ["node", str(DRIVER), url, str(wav), f"{seconds:.1f}", str(ARTIFACTS), QUESTION],
            capture_output=True, text=True, timeout=seconds + 420, cwd=DRIVER.parent,
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    (ARTIFACTS / "result.json").write_text(json.dumps(result, indent=1))
    assert "error" not in result, result["error"]
    offline = wer(eval_truth(MEETING)["reference_text"], recognizer.transcribe_offline(audio))
    return result, offline, tmp / "s.db"


def test_captions_on_the_page_reach_the_live_caption_bar(page_run):
    result, offline, _ = page_run
    assert "microphone is on" in result["mic_status"]
    captions = sorted(result["captions"], key=lambda c: c["start"])
    shown = wer(eval_truth(MEETING)["reference_text"], " ".join(c["text"] for c in captions))
    bar = offline + max(0.01, 0.15 * offline)  # the bar of the live-caption benchmark
    assert shown <= bar, f"page WER {shown:.3f} > bar {bar:.3f} (offline {offline:.3f})"
    assert result["partials_left"] == 0
    delays = sorted(result["delays"])
    # in seconds, not milliseconds (those would read in the hundreds); how short it is, is
    # the live-caption benchmark's to say, not a timed test's (the median was 0.84 s on
    # 2026-11-29 and 1.52 s in a clean-clone CI run of 2026-11-30)
    assert delays and 0 < delays[len(delays) // 2] < 60, "the delay indicator shows seconds"


def test_speakers_have_distinct_colours_and_sounds_show(page_run):
    result, _, _ = page_run
    colours = {s["speaker"]: s["colour"] for s in result["speaker_colours"]}
    assert len(colours) >= 2
    assert len(set(colours.values())) == len(colours), colours
    assert any("[phone ringing]" in s or "[bell]" in s for s in result["sounds"])


def test_an_answer_cites_a_moment_that_the_page_scrolls_to(page_run):
    result, _, _ = page_run
    answer = result["answer"].lower()
    assert "bob" in answer and "friday" in answer, result["answer"]
    lo, hi = eval_truth(MEETING)["questions"][1]["evidence"]
    inside = [c for c in result["citations"] if lo - 3 <= c["cited"] <= hi + 3]
    assert inside, f"no citation inside the evidence {lo:.0f}-{hi:.0f} s: {result['citations']}"
    for citation in result["citations"]:  # every link leads to its moment, on screen
        jumped, cited = citation["jumped"], citation["cited"]
        assert jumped and jumped["visible"], citation
        assert cited - 30 <= jumped["start"] <= cited + 0.5, citation


def test_what_did_i_miss_asks_since_the_reader_scrolled_away(page_run):
    result, _, _ = page_run
    asked = re.search(r"since (\d\d):(\d\d)", result["missed"]["question"])
    assert asked, result["missed"]
    since = int(asked.group(1)) * 60 + int(asked.group(2))
    heard = max(c["start"] for c in result["captions"])
    assert heard - 5 <= since <= heard + 10, "since the moment the reader scrolled up"
    answer = result["missed"]["answer"]
    cited = [int(m) * 60 + int(s) for m, s in re.findall(r"\[(\d\d):(\d\d)\]", answer)]
    assert cited and all(t >= since - 30 for t in cited), answer  # the catch-up's own lines


def test_the_presenter_says_who_is_here_and_the_session_keeps_it(page_run):
    result, _, db = page_run
    assert result["people"] == "In the meeting: Alice, Bob, Carol"
    with SessionStore(db) as store:
        kept = [e for e in store.events(store.latest_session()) if e["type"] == "people"]
    assert [e["names"] for e in kept] == [["Alice", "Bob", "Carol"]]


def test_every_theme_keeps_text_contrast(page_run):
    result, _, _ = page_run
    for theme, ratios in result["contrast"].items():
        low = {sel: r for sel, r in ratios.items() if r < 4.5}
        assert not low, f"{theme}: {low}"
        assert len(ratios) >= 12, f"{theme}: too few kinds of text measured"


def test_usable_at_200_percent_by_keyboard_with_a_live_region(page_run):
    result, _, _ = page_run
    assert result["overflow_text_200"] <= 0 and result["overflow_zoom_200"] <= 0
    missing = set(result["controls"]) - set(result["reached"])
    assert not missing, f"not reachable by Tab: {missing}"
    assert result["live_region"] == {"role": "log", "live": "polite"}
    assert result["theme_after_reload"] == "light", "reader settings persist"


def test_a_past_session_reopens_read_only_and_searches(page_run):
    _, _, db = page_run
    proc, url = start_server(["serve", str(db)])
    try:
        done = subprocess.run(
            ["node", str(DRIVER.parent / "past_session.mjs"), url, "bugs", str(ARTIFACTS)],
            capture_output=True, text=True, timeout=120, cwd=DRIVER.parent,
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "error" not in result, result["error"]
    assert result["status"] == "Past meeting (read-only)"
    assert result["mic_hidden"] and result["rename_hidden"] and result["people_hidden"]
    assert 0 < len(result["found"]) < result["total"] == result["after_clear"]
    assert all("bugs" in line.lower() for line in result["found"])
