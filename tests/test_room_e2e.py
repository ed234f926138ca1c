"""End to end with every engine: a whole meeting replayed through the CLI, then renamed
and exported, checked against the eval ground truth."""

import json

import pytest

from roomtone.assistant.store import SessionStore
from roomtone.cli import main
from roomtone.streaming.records import latest_events as latest

from .conftest import eval_truth

pytestmark = pytest.mark.slow

MEETING = "dev_m03_onboarding"


@pytest.fixture(scope="module")
def run(eval_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("room")
    events, db = folder / "events.jsonl", folder / "s.db"
    audio = eval_dir / f"{MEETING}.flac"
    rc = main(
        ["replay", str(audio), "--fast", "--events", str(events), "--session", str(db), "--quiet"]
    )
    assert rc == 0
    return [json.loads(line) for line in events.read_text().splitlines()], db


def truth_speaker(truth: dict, t: float) -> str | None:
    return next(
        (turn["speaker"] for turn in truth["turns"] if turn["start"] <= t <= turn["end"]), None
    )


def test_speaker_turns_follow_the_contract_and_find_both_people(run):
    events, _ = run
    turns = latest(events, "speaker")
    assert turns and all(t.keys() >= {"type", "speaker", "start", "end"} for t in turns)
    assert all(t["final"] for t in turns)
    assert len({t["speaker"] for t in turns}) == 2


def test_captions_carry_the_right_speaker(run):
    events, _ = run
    truth = eval_truth(MEETING)
    captions = [c for c in latest(events, "caption") if c["final"] and c["words"]]
    pairs = [
        (truth_speaker(truth, (w["start"] + w["end"]) / 2), c["speaker"])
        for c in captions
        for w in c["words"]
    ]
    pairs = [(t, s) for t, s in pairs if t is not None]
    assert all(s is not None for _, s in pairs)
    # the label each true speaker mostly gets, then how often words get it
    mapping = {
        t: max({s for tt, s in pairs if tt == t}, key=lambda s: pairs.count((t, s)))
        for t, _ in pairs
    }
    assert len(set(mapping.values())) == 2
    assert sum(mapping[t] == s for t, s in pairs) / len(pairs) >= 0.9


def test_the_bell_is_captioned_once(run):
    events, _ = run
    bell = next(e for e in eval_truth(MEETING)["events"] if e["label"] == "bell")
    sounds = latest(events, "sound")
    assert [(s["label"], s["caption"]) for s in sounds] == [("bell", "[bell]")]
    assert abs(sounds[0]["start"] - bell["start"]) <= 1.0
    assert [e["final"] for e in events if e["type"] == "sound"] == [False, True]


def test_agitated_turns_are_flagged_and_few_others(run):
    events, _ = run
    truth = eval_truth(MEETING)
    flags = [f for f in latest(events, "emotion") if f["label"] != "neutral"]
    assert all(
        f.keys() >= {"type", "speaker", "start", "end", "label", "arousal", "valence"}
        for f in flags
    )
    high = [t for t in truth["turns"] if t["arousal"] == "high"]
    flagged = [
        t for t in high if any(f["start"] < t["end"] and f["end"] > t["start"] for f in flags)
    ]
    assert len(flagged) == len(high)
    stray = [
        f for f in flags if not any(f["start"] < t["end"] and f["end"] > t["start"] for t in high)
    ]
    assert len(stray) <= 2


def test_names_persist_and_exports_show_speakers_tones_and_sounds(run, tmp_path):
    _, db = run
    assert main(["rename", str(db), "S1", "Julia"]) == 0
    assert main(["rename", str(db), "S9", "Nobody"]) == 2  # no such speaker: a clear error
    with SessionStore(db) as store:
        assert store.speaker_names(store.latest_session()) == {"S1": "Julia"}
    out = tmp_path / "minutes.md"
    assert main(["export", str(db), "--format", "md", "-o", str(out)]) == 0
    text = out.read_text()
    assert "**Julia**" in text and "[bell]" in text
    assert any(f"_({label})_" in text for label in ("raised voice", "excited", "emphatic"))
    doc = json.loads(_export_json(db, tmp_path))
    assert doc["speaker_names"] == {"S1": "Julia"} and doc["sounds"] and doc["tones"]


def _export_json(db, tmp_path):
    out = tmp_path / "all.json"
    assert main(["export", str(db), "--format", "json", "-o", str(out)]) == 0
    return out.read_text()


def _replay_audio(audio, tmp_path):
    import soundfile as sf

    path = tmp_path / "input.wav"
    sf.write(path, audio, 16000, subtype="PCM_16")
    events_path = tmp_path / "events.jsonl"
    rc = main(
        [
            "replay",
            str(path),
            "--fast",
            "--events",
            str(events_path),
            "--session",
            str(tmp_path / "s.db"),
            "--quiet",
        ]
    )
    assert rc == 0
    return [json.loads(line) for line in events_path.read_text().splitlines()]


def _music(eval_dir):
    import numpy as np

    from roomtone.streaming.sources import decode_file

    music = next(e for e in eval_truth("dev_m02_budget")["events"] if e["label"] == "music")
    audio = decode_file(eval_dir / "dev_m02_budget.flac")
    return np.tile(audio[int(music["start"] * 16000) : int(music["end"] * 16000)], 3)


@pytest.mark.parametrize("kind", ["silence", "noise", "music"])
def test_no_speech_gives_no_speakers_tones_or_captions(kind, eval_dir, tmp_path):
    import numpy as np

    from .room_audio import pink_noise

    audio = {
        "silence": lambda: np.zeros(20 * 16000, np.float32),
        "noise": lambda: pink_noise(20, -30),
        "music": lambda: _music(eval_dir),
    }[kind]()
    events = _replay_audio(audio, tmp_path)
    assert not [e for e in events if e["type"] in ("speaker", "emotion")]
    assert not [c for c in latest(events, "caption") if c["words"]]
    sounds = {s["caption"] for s in latest(events, "sound")}
    # dev_m02's music lies on its pink noise floor, so that is captioned too
    expected = {"silence": set(), "noise": {"[background noise]"}}
    assert sounds == expected.get(kind, {"[music]", "[background noise]"})


def test_a_monologue_is_one_speaker_with_no_tone_flags(eval_dir, tmp_path):
    from roomtone.streaming.sources import decode_file

    from .room_audio import turns_of

    truth = eval_truth("dev_m01_launch")
    calm = {**truth, "turns": [t for t in truth["turns"] if t["arousal"] != "high"]}
    audio = turns_of(decode_file(eval_dir / "dev_m01_launch.flac"), calm, "S1")
    events = _replay_audio(audio, tmp_path)
    assert {t["speaker"] for t in latest(events, "speaker")} == {"S1"}
    assert [f["label"] for f in latest(events, "emotion") if f["label"] != "neutral"] == []
