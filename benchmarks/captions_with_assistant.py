"""Do live captions suffer when the assistant runs beside them?

Replays an eval meeting ``--realtime`` with the CLI, as users run it, side by side:
without the assistant, and with ``--assistant`` (its memory kept in step with the
captions, one core for the model) while a question is asked over the live socket every
``--ask-every`` seconds. Reports, from each run's event log, the captions' word latency
(first display and final, of the live pass), the live WER against the meeting's
reference, and the process's CPU/audio; for the assistant run, each answer's first token
and whole answer as the live session gave them.

    python benchmarks/captions_with_assistant.py [--files dev_m01_launch] [--ask-every 30]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_table, write_results

from roomtone.assistant.live import ask_live, ask_socket_path
from roomtone.streaming.caption_metrics import final_text, first_pass, wer, word_latency

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
QUESTIONS = (  # ones the model answers (a question about the whole meeting does not use it)
    "What did I miss in the last minute?",
    "Who agreed to fix the open mobile app bugs?",
    "When is the press release due?",
)
CPU_RATIO = re.compile(r"CPU/audio ([0-9.]+)")


def run(audio: Path, folder: Path, assistant: bool, ask_every: float) -> dict:
    """One realtime CLI replay of ``audio``; its captions scored, and the answers it gave."""
    events, db = folder / "events.jsonl", folder / "session.db"
    command = [sys.executable, "-m", "roomtone.cli", "replay", str(audio), "--realtime"]
    command += ["--quiet", "--events", str(events), "--session", str(db)]
    if assistant:
        command.append("--assistant")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    answers = ask_while_running(process, ask_socket_path(db, 1), ask_every) if assistant else []
    process.wait()
    reader.join()
    if process.returncode != 0:
        raise RuntimeError(f"replay failed ({process.returncode}): {''.join(output)[-2000:]}")
    kept = [json.loads(line) for line in events.read_text().splitlines()]
    live = first_pass(kept)
    latency = word_latency(live)
    truth = json.loads((EVAL / f"{audio.stem}.json").read_text())
    cpu = CPU_RATIO.search("".join(output))
    return {
        "assistant": assistant,
        "first_p50_s": latency.first_p50,
        "first_p95_s": latency.first_p95,
        "final_p95_s": latency.final_p95,
        "words": latency.words,
        "live_wer": wer(truth["reference_text"], final_text(kept)),
        "cpu_over_audio": float(cpu.group(1)) if cpu else None,
        "answers": answers,
    }


def ask_while_running(process: subprocess.Popen, socket: Path, every: float) -> list[dict]:
    """Ask QUESTIONS in turn every ``every`` seconds until the replay ends."""
    answers, i = [], 0
    time.sleep(every)
    while process.poll() is None:
        question = QUESTIONS[i % len(QUESTIONS)]
        try:
            reply = ask_live(socket, question, None)
        except OSError:  # not listening yet, or the replay just ended
            reply = None
        if reply is not None and "answer" in reply:
            answers.append({"question": question, **reply})
            i += 1
        time.sleep(every)
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", default=["dev_m01_launch"])
    parser.add_argument("--ask-every", type=float, default=30.0, help="seconds between questions")
    args = parser.parse_args()
    results = []
    for meeting in args.files:
        audio = EVAL / f"{meeting}.flac"
        for assistant in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                result = run(audio, Path(tmp), assistant, args.ask_every)
            results.append({"meeting": meeting, **result})
            print(f"{meeting}, assistant {assistant}: done", flush=True)
    print_table(
        ["meeting", "assistant", "first p50", "first p95", "final p95", "live WER", "CPU/audio"],
        [
            [
                r["meeting"],
                "on, asked" if r["assistant"] else "off",
                r["first_p50_s"],
                r["first_p95_s"],
                r["final_p95_s"],
                r["live_wer"],
                r["cpu_over_audio"],
            ]
            for r in results
        ],
    )
    answers = [a for r in results for a in r["answers"]]
    if answers:
        first = [a["first_token_s"] for a in answers]
        whole = [a["total_s"] for a in answers]
        print(
            f"\n{len(answers)} answers while captioning: first token median "
            f"{statistics.median(first):.2f} s ({min(first):.2f}-{max(first):.2f}), whole "
            f"answer median {statistics.median(whole):.2f} s ({min(whole):.2f}-{max(whole):.2f})"
        )
    path = write_results("captions_with_assistant", {"runs": results})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
