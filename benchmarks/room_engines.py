"""Who, how and what else (issue 3): speakers, tone flags and sound captions, live.

For every eval meeting, two --realtime replays through the real pipeline, side by
side: captions only, then with every engine on (speakers, sounds, tone). Scored:
diarization error rate of the final speaker turns (collar 0.25 s each side,
overlaps scored) next to senko run offline on the whole file in the same run;
sound-event recall within 1 s of the labelled start and false sound captions per
5 minutes of speech; arousal AUC (high-arousal turns against neutral turns of the
same speaker); CPU/audio with all engines; and what the engines add to caption
latency.

    python benchmarks/room_engines.py [--files dev_m01_launch ...] [--no-senko]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_table, write_results
from replay import replay

from roomtone.plugins.whisper_captioner import WhisperCaptioner
from roomtone.streaming.caption_metrics import first_pass, word_latency
from roomtone.streaming.records import latest_events as latest
from roomtone.streaming.sources import decode_file

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
SOUND_TOLERANCE_S = 1.0
RESULTS_EVENTS = Path("/tmp/roomtone-bench/room_engines")  # the event logs, to inspect


def der(truth: dict, turns: list[tuple[float, float, str]]) -> float:
    """Diarization error rate, collar 0.25 s each side, overlapped speech scored."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    reference, hypothesis = Annotation(), Annotation()
    for i, turn in enumerate(truth["turns"]):
        reference[Segment(turn["start"], turn["end"]), i] = turn["speaker"]
    for i, (start, end, speaker) in enumerate(turns):
        hypothesis[Segment(start, end), i] = speaker
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(DiarizationErrorRate(collar=0.5, skip_overlap=False)(reference, hypothesis))


def senko_turns(diarizer: object, audio: Path) -> tuple[list[tuple[float, float, str]], float]:
    """senko (CAM++ + pyannote segmentation) on the whole file; its turns and CPU time."""
    samples = decode_file(audio)
    cpu0 = time.process_time()
    result = diarizer.diarize_samples(samples, 16_000)  # type: ignore[attr-defined]
    cpu = time.process_time() - cpu0
    segments = (result or {}).get("merged_segments", [])
    return [(s["start"], s["end"], s["speaker"]) for s in segments], cpu


def sound_scores(truth: dict, sounds: list[dict]) -> tuple[int, int, int]:
    """(labelled events found within 1 s of their start, labelled events, false captions)."""
    found = sum(
        any(
            s["label"] == e["label"] and abs(s["start"] - e["start"]) <= SOUND_TOLERANCE_S
            for s in sounds
        )
        for e in truth["events"]
    )
    false = sum(
        not any(
            s["label"] == e["label"] and s["start"] < e["end"] + 1 and s["end"] > e["start"] - 1
            for e in truth["events"]
        )
        for s in sounds
    )
    return found, len(truth["events"]), false


def arousal_auc(truth: dict, flags: list[dict]) -> float | None:
    """P(a high-arousal turn scores above a neutral turn of the same speaker)."""

    def score(turn: dict) -> float:
        best, overlap = 0.5, 0.0  # a turn with no flag counts as undecided
        for flag in flags:
            shared = min(turn["end"], flag["end"]) - max(turn["start"], flag["start"])
            if shared > overlap:
                best, overlap = flag["arousal"], shared
        return best

    wins = pairs = 0.0
    for high in (t for t in truth["turns"] if t["arousal"] == "high"):
        for neutral in (
            t for t in truth["turns"] if t["arousal"] != "high" and t["speaker"] == high["speaker"]
        ):
            a, b = score(high), score(neutral)
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
            pairs += 1
    return wins / pairs if pairs else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    parser.add_argument("--files", nargs="*")
    parser.add_argument("--no-senko", action="store_true")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    manifest = json.loads((args.eval_dir / "manifest.json").read_text())
    ids = args.files or [Path(f["audio"]).stem for f in manifest["files"]]
    recognizer = WhisperCaptioner("tiny.en")
    senko = None
    if not args.no_senko:
        import senko as senko_package

        senko = senko_package.Diarizer(device="cpu", warmup=False, quiet=True)
    rows, results = [], []
    total_found = total_events = total_false = 0
    total_speech = 0.0
    for meeting in ids:
        truth = json.loads((args.eval_dir / f"{meeting}.json").read_text())
        audio = args.eval_dir / truth["audio"]
        plain, _ = replay(recognizer, audio, realtime=True)
        events, stats = replay(recognizer, audio, realtime=True, engines=True)
        RESULTS_EVENTS.mkdir(parents=True, exist_ok=True)
        with open(RESULTS_EVENTS / f"{meeting}.jsonl", "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in events)
        turns = [(e["start"], e["end"], e["speaker"]) for e in latest(events, "speaker")]
        ours = der(truth, turns)
        speakers = len({speaker for *_, speaker in turns})
        senko_der = senko_speakers = None
        if senko is not None:
            s_turns, _ = senko_turns(senko, audio)
            senko_der = der(truth, s_turns)
            senko_speakers = len({speaker for *_, speaker in s_turns})
        found, labelled, false = sound_scores(truth, latest(events, "sound"))
        speech = sum(t["end"] - t["start"] for t in truth["turns"])
        total_found, total_events = total_found + found, total_events + labelled
        total_false, total_speech = total_false + false, total_speech + speech
        auc = arousal_auc(truth, latest(events, "emotion"))
        lat_plain = word_latency(first_pass(plain))
        lat_all = word_latency(first_pass(events))
        added = max(
            lat_all.first_p50 - lat_plain.first_p50,
            lat_all.first_p95 - lat_plain.first_p95,
            lat_all.final_p95 - lat_plain.final_p95,
        )
        cpu = stats.cpu_seconds / stats.audio_seconds
        true_speakers = len(truth["speakers"])
        result = {
            "meeting": meeting,
            "der": ours,
            "speakers": speakers,
            "true_speakers": true_speakers,
            "senko_der": senko_der,
            "senko_speakers": senko_speakers,
            "sounds_found": found,
            "sounds_labelled": labelled,
            "false_sounds": false,
            "speech_s": speech,
            "arousal_auc": auc,
            "cpu_over_audio": cpu,
            "caption_first_p50_s": [lat_plain.first_p50, lat_all.first_p50],
            "caption_first_p95_s": [lat_plain.first_p95, lat_all.first_p95],
            "caption_final_p95_s": [lat_plain.final_p95, lat_all.final_p95],
            "latency_added_s": added,
            "pass": ours <= 0.12
            and speakers <= true_speakers
            and (auc is None or auc >= 0.8)
            and cpu <= 0.6
            and added <= 0.5,
        }
        results.append(result)
        rows.append(
            [
                meeting,
                ours,
                senko_der,
                f"{speakers}/{true_speakers}",
                senko_speakers,
                f"{found}/{labelled}",
                false,
                auc,
                cpu,
                lat_plain.first_p95,
                lat_all.first_p95,
                added,
                "yes" if result["pass"] else "NO",
            ]
        )
        print(f"done {meeting}", file=sys.stderr, flush=True)
    recall = total_found / total_events if total_events else None
    false_per_5min = total_false / (total_speech / 300) if total_speech else None
    print(
        "\nSpeakers, sounds and tone, --realtime replays (targets: DER <= 0.12, no extra "
        "speakers, arousal AUC >= 0.8,\nCPU/audio <= 0.6 with all engines, <= 0.5 s added "
        "caption latency; sound recall >= 0.8 and <= 1 false per 5 min overall)\n"
    )
    print_table(
        [
            "meeting",
            "DER",
            "senko DER",
            "speakers",
            "senko spk",
            "sounds",
            "false",
            "arousal AUC",
            "CPU/audio",
            "1st p95 plain",
            "1st p95 all",
            "added s",
            "pass",
        ],
        rows,
    )
    print(
        f"\nsound recall {total_found}/{total_events} = {recall:.2f}; "
        f"false sound captions {total_false} in {total_speech / 60:.1f} min of speech "
        f"= {false_per_5min:.2f} per 5 min"
    )
    path = write_results(
        "room_engines",
        {
            "meetings": results,
            "sound_recall": recall,
            "false_sounds_per_5min_speech": false_per_5min,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
