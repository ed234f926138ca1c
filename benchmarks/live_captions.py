"""Live-caption acceptance benchmark (issue 2).

For every eval meeting: replay it --realtime through the real pipeline (pipecat,
Silero VAD, streaming Whisper), then score final-caption WER against the offline
batch WER of the same model on the whole file (measured in the same run), word
latency (first display and final), and pipeline CPU time / audio time. A --fast
replay of the same file checks that the final text is identical.

    python benchmarks/live_captions.py [--model tiny.en] [--revise-model base]
        [--files dev_m01_launch ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from machine import print_table, write_results
from replay import replay

from roomtone.plugins.whisper_captioner import WhisperCaptioner
from roomtone.streaming.caption_metrics import (
    final_text,
    first_pass,
    revision_delays,
    wer,
    word_latency,
)
from roomtone.streaming.sources import decode_file

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def offline_wer(
    recognizer: WhisperCaptioner, audio_path: Path, reference: str
) -> tuple[float, float]:
    """Batch transcription of the whole file (beam 5, no VAD), as the corpus checks do."""
    t0 = time.process_time()
    text = recognizer.transcribe_offline(decode_file(audio_path))
    return wer(reference, text), time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--revise-model", default="base", help="the second pass's model")
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    parser.add_argument("--files", nargs="*", help="meeting ids (default: all in the manifest)")
    parser.add_argument("--no-fast", action="store_true", help="skip the --fast comparison")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 threads")
    args = parser.parse_args()

    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    manifest = json.loads((args.eval_dir / "manifest.json").read_text())
    ids = args.files or [Path(f["audio"]).stem for f in manifest["files"]]
    recognizer = WhisperCaptioner(
        args.model, revise_model=args.revise_model, cpu_threads=args.threads
    )
    rows, results = [], []
    for meeting in ids:
        truth = json.loads((args.eval_dir / f"{meeting}.json").read_text())
        audio = args.eval_dir / truth["audio"]
        reference = truth["reference_text"]
        off_wer, _off_cpu = offline_wer(recognizer, audio, reference)
        events, stats = replay(recognizer, audio, realtime=True)
        live_text = final_text(events)
        live_wer = wer(reference, live_text)
        first_pass_wer = wer(reference, final_text(first_pass(events)))
        # Latency is that of the live pass: revisions correct captions already final.
        lat = word_latency(first_pass(events))
        delays = revision_delays(events)
        revision_p95 = float(np.percentile(delays, 95)) if delays else float("nan")
        cpu_ratio = stats.cpu_seconds / stats.audio_seconds
        bar = off_wer + max(0.01, 0.15 * off_wer)
        same = None
        if not args.no_fast:
            fast_events, _ = replay(recognizer, audio, realtime=False)
            same = final_text(fast_events) == live_text
        ok = (
            live_wer <= bar
            and lat.first_p50 <= 1.0
            and lat.first_p95 <= 2.0
            and lat.final_p95 <= 3.0
            and cpu_ratio <= 0.5
            and same is not False
        )
        results.append(
            {
                "meeting": meeting,
                "audio_s": round(stats.audio_seconds, 2),
                "offline_wer": off_wer,
                "live_wer": live_wer,
                "first_pass_wer": first_pass_wer,
                "revision_delay_p95_s": revision_p95,
                "revised_captions": len(delays),
                "wer_bar": bar,
                "first_p50_s": lat.first_p50,
                "first_p95_s": lat.first_p95,
                "final_p50_s": lat.final_p50,
                "final_p95_s": lat.final_p95,
                "words": lat.words,
                "cpu_over_audio": cpu_ratio,
                "wall_s": stats.wall_seconds,
                "updates": stats.updates,
                "fast_equals_realtime": same,
                "pass": ok,
            }
        )
        rows.append(
            [
                meeting,
                off_wer,
                first_pass_wer,
                live_wer,
                bar,
                lat.first_p50,
                lat.first_p95,
                lat.final_p95,
                revision_p95,
                cpu_ratio,
                same,
                "yes" if ok else "NO",
            ]
        )
        print(f"done {meeting}", file=sys.stderr, flush=True)
    print(
        f"\nLive captions, model {args.model}, --realtime replay (targets: WER <= bar, "
        "first p50 <= 1.0 s, p95 <= 2.0 s, final p95 <= 3.0 s, CPU/audio <= 0.5;\n"
        "live WER is after revision, 1st-pass WER before it)\n"
    )
    print_table(
        [
            "meeting",
            "offline WER",
            "1st-pass WER",
            "live WER",
            "WER bar",
            "first p50",
            "first p95",
            "final p95",
            "revision p95",
            "CPU/audio",
            "fast==rt",
            "pass",
        ],
        rows,
    )
    path = write_results(
        "live_captions",
        {"model": args.model, "revise_model": args.revise_model, "meetings": results},
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
