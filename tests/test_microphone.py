"""`roomtone live --mic` through sounddevice, fed by a virtual PulseAudio microphone.

A user-space PulseAudio with a null sink stands in for the sound card: its monitor
is the default source, and paplay speaks an eval clip into it at real-time pace.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from roomtone.streaming.caption_metrics import final_text, wer

from .conftest import reference_between

pytestmark = pytest.mark.slow

NEEDED = ("pulseaudio", "pactl", "paplay")


@pytest.fixture
def virtual_mic(tmp_path: Path):
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install PulseAudio for the microphone test: {missing}")
        pytest.skip(f"no {missing} here (bash .ci/setup installs them)")
    env = dict(
        os.environ,
        XDG_RUNTIME_DIR=str(tmp_path),
        PULSE_RUNTIME_PATH=str(tmp_path / "p"),
        HOME=str(tmp_path),
    )
    subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, check=False)
    subprocess.run(
        [
            "pulseaudio",
            "--daemonize=yes",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--system=false",
            "--log-target=stderr",
            "-n",
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=meeting rate=16000 channels=1",
            "--load=module-always-sink",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    subprocess.run(["pactl", "set-default-source", "meeting.monitor"], env=env, check=True)
    yield env
    subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, check=False)


def _wait_until_listening(live: subprocess.Popen[str], limit: float = 120.0) -> str:
    """What ``live`` printed until it said it listens; models load first, at any speed."""
    assert live.stderr is not None
    said: list[str] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = live.stderr.readline()
        said.append(line)
        if not line or "listening on" in line:
            break
    return "".join(said)


def test_live_mic_captions_what_the_microphone_hears(virtual_mic, onboarding_audio, tmp_path):
    clip = tmp_path / "speech.wav"
    sf.write(clip, onboarding_audio[: 18 * 16000], 16000, subtype="PCM_16")
    events, db = tmp_path / "mic.jsonl", tmp_path / "mic.db"
    live = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "roomtone.cli",
            "live",
            "--mic",
            "--device",
            "pulse",
            "--session",
            str(db),
            "--events",
            str(events),
            "--quiet",
        ],
        env=virtual_mic,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        said = _wait_until_listening(live)
        assert live.poll() is None and "listening on" in said, said
        subprocess.run(
            ["paplay", "--device=meeting", str(clip)], env=virtual_mic, check=True, timeout=60
        )
        time.sleep(3)
    finally:
        live.send_signal(signal.SIGINT)
        _, err = live.communicate(timeout=60)
    assert live.returncode == 0, err
    log = [json.loads(line) for line in events.read_text().splitlines()]
    text = final_text(log)
    assert wer(reference_between("dev_m03_onboarding", 0, 18), text) <= 0.3, text
    assert "saved" in err
