"""How far behind the captions does the live assistant's memory run?

Replays an eval meeting ``--realtime`` through the CLI with ``--assistant``, in this
process, and every second asks the memory what a question asked at that moment would
read before its own words (``MeetingMemory.suffix``: the lines not in the cached prefix
yet, and the question opener if it was not read ahead), and how long that waited for
the memory (which reads one line or piece at a time). No question is answered, so the
samples see the upkeep alone: the captions' live pass, their second-pass revisions, new
speakers and tones, as they arrive.

    python benchmarks/live_memory_lag.py [--files dev_m01_launch]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_table, write_results

import roomtone.assistant.live as live
from roomtone.assistant.memory import QUESTION_OPENER
from roomtone.cli import main as cli

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
EVERY_S = 1.0
MANY_TOKENS = 50  # ~3 s more before a first token on this machine beside the captions


def sampled_replay(audio: Path, folder: Path) -> list[tuple[float, int]]:
    """(seconds waited, tokens to read) every ``EVERY_S`` during a realtime replay."""
    assistants: list[live.LiveAssistant] = []
    start = live.LiveAssistant.__init__

    def keep(self: live.LiveAssistant, llm: object) -> None:
        start(self, llm)
        assistants.append(self)

    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not assistants and not done.is_set():
            time.sleep(0.1)
        while not done.wait(EVERY_S) and assistants:
            memory = assistants[0].memory
            lines = assistants[0].snapshot().lines()
            began = time.perf_counter()
            before = memory.suffix(QUESTION_OPENER, lines)
            samples.append((time.perf_counter() - began, len(memory.llm.tokens(before))))

    live.LiveAssistant.__init__ = keep
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        command = ["replay", str(audio), "--realtime", "--quiet", "--assistant"]
        command += ["--events", str(folder / "events.jsonl"), "--session", str(folder / "s.db")]
        if cli(command) != 0:
            raise RuntimeError(f"the replay of {audio.name} failed")
    finally:
        done.set()
        sampler.join()
        live.LiveAssistant.__init__ = start
    return samples


def summary(samples: list[tuple[float, int]]) -> dict[str, float]:
    """Medians, 95th percentiles and maxima of the waits and the tokens to read."""
    waits = sorted(wait for wait, _ in samples)
    unread = sorted(tokens for _, tokens in samples)

    def p95(values: list) -> float:
        return values[min(len(values) - 1, int(0.95 * len(values)))]

    return {
        "samples": len(samples),
        "wait_p50_s": statistics.median(waits),
        "wait_p95_s": p95(waits),
        "wait_max_s": waits[-1],
        "tokens_p50": statistics.median(unread),
        "tokens_p95": p95(unread),
        "tokens_max": unread[-1],
        "share_over_many": sum(t > MANY_TOKENS for t in unread) / len(unread),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", default=["dev_m01_launch"])
    args = parser.parse_args()
    results = []
    for meeting in args.files:
        with tempfile.TemporaryDirectory() as tmp:
            samples = sampled_replay(EVAL / f"{meeting}.flac", Path(tmp))
        results.append({"meeting": meeting, **summary(samples), "samples_raw": samples})
    print_table(
        [
            "meeting",
            "samples",
            "wait p50",
            "wait p95",
            "wait max",
            "tokens p50",
            "p95",
            "max",
            f"> {MANY_TOKENS}",
        ],
        [
            [
                r["meeting"],
                r["samples"],
                r["wait_p50_s"],
                r["wait_p95_s"],
                r["wait_max_s"],
                r["tokens_p50"],
                r["tokens_p95"],
                r["tokens_max"],
                r["share_over_many"],
            ]
            for r in results
        ],
    )
    path = write_results("live_memory_lag", {"every_s": EVERY_S, "runs": results})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
