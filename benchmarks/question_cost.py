"""What a question costs the assistant's model on this CPU, alone and beside live captions.

A cached answer's first token is the model reading the question's tokens after the
prefix, then choosing one token. This times that with the live assistant's model and
setting (the bundled 1.5B, one thread), after a prefix as deep as a 60-minute
session's (``--depth`` tokens of the eval meetings' lines) and after a shallow one:

- alone: a 15-token question and its first token; and a batch of 1, 2, 3, 5 and 8
  tokens after the deep prefix (what writing one token costs, and what checking a
  guess of several would);
- beside a live ``--realtime`` replay in another process: as the OS schedules both,
  with the replay at ``nice 10``, and with the replay on core 0 and the model on core 1;
- from the batch costs: what prompt-lookup drafting (guessing the next tokens from
  where the answer's last three tokens appear in the meeting, checking them in one
  batch) would cost for the eval answers in ``results/assistant_accuracy.json``,
  beside writing them one token at a time.

    python benchmarks/question_cost.py [--depth 6000] [--rounds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import RESULTS, print_table, write_results

from assistant import EVAL, LiveReplay
from roomtone.assistant.memory import ASSISTANT_TURN, HEADER, QUESTION_OPENER, SYSTEM
from roomtone.plugins.llm_llamacpp import LlamaCppLLM
from roomtone.streaming.clock import format_clock

QUESTION = " Who agreed to fix the open mobile app bugs?" + ASSISTANT_TURN  # 15 tokens
BATCHES = (1, 2, 3, 5, 8)
SHALLOW = 300  # tokens: the system prompt and a minute of meeting
WARM_UP_S = 25  # the replay beside loads its models before it captions
LOOKUP = 3  # prompt lookup: the answer's last tokens searched for in the meeting
DRAFTED = 4  # tokens guessed at a time


def said(truth: dict) -> list[str]:
    """An eval meeting's turns as the assistant's lines: ``[mm:ss] Name: words``."""
    names = {label: speaker["name"] for label, speaker in truth["speakers"].items()}
    return [
        f"[{format_clock(turn['start'])}] {names.get(turn['speaker'], turn['speaker'])}: "
        f"{turn['text']}\n"
        for turn in truth["turns"]
    ]


def meeting_text(tokens: int, llm: LlamaCppLLM) -> str:
    """The system prompt and the eval meetings' lines, repeated until they fill ``tokens``,
    then the question opener (as the assistant reads it ahead)."""
    lines = [line for path in sorted(EVAL.glob("dev_*.json")) for line in said(_truth(path))]
    text, i = HEADER.format(system=SYSTEM), 0
    while len(llm.tokens(text)) < tokens:
        text += lines[i % len(lines)]
        i += 1
    return text + QUESTION_OPENER


def first_token_s(llm: LlamaCppLLM) -> float:
    """The question read after the prefix and its first token chosen (then cut back)."""
    started = time.perf_counter()
    stream = llm.complete(QUESTION, max_tokens=1)
    next(stream, None)
    stream.close()
    return time.perf_counter() - started


def batch_s(llm: LlamaCppLLM, tokens: int) -> float:
    """``tokens`` tokens read after the prefix in one batch (then cut back)."""
    position = llm.position
    text = " the" * tokens  # one token each; what a batch costs does not depend on its words
    started = time.perf_counter()
    llm.extend(text, chunk=tokens)
    elapsed = time.perf_counter() - started
    llm.rewind(position)
    return elapsed


def timed(measure: Callable[[], float], rounds: int, pause_s: float = 0.0) -> dict:
    """Median and range of ``rounds`` timings (after one not timed: the first call warms up)."""
    measure()
    times = []
    for _ in range(rounds):
        times.append(measure())
        time.sleep(pause_s)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def beside_replay(llm: LlamaCppLLM, rounds: int) -> dict[str, dict]:
    """The question's first token beside a live replay, scheduled three ways."""
    cores = sorted(os.sched_getaffinity(0))
    ways: dict[str, tuple[tuple[str, ...], set[int] | None]] = {
        "beside a live replay": ((), None),
        "replay at nice 10": (("nice", "-n", "10"), None),
    }
    if len(cores) >= 2:
        ways["replay on one core, model on another"] = (
            ("taskset", "-c", str(cores[0])),
            {cores[1]},
        )
    results = {}
    for name, (launcher, model_cores) in ways.items():
        with LiveReplay(launcher):
            time.sleep(WARM_UP_S)
            if model_cores is not None:
                os.sched_setaffinity(0, model_cores)  # this thread: the model's one thread
            try:
                results[name] = timed(lambda: first_token_s(llm), rounds, pause_s=1.0)
            finally:
                os.sched_setaffinity(0, cores)
        print(f"{name}: {results[name]['median_s']:.2f} s", flush=True)
    return results


def drafting_cost(llm: LlamaCppLLM, per_batch: dict[int, float]) -> dict:
    """Prompt-lookup drafting on the eval answers, costed with the measured batch times.

    Each step guesses up to DRAFTED tokens (those after the latest place in the meeting
    and the answer so far where its last LOOKUP tokens stand) and reads them with the
    token just chosen in one batch; the guesses the model agrees with are kept. A batch
    of a size not timed is costed as the next larger one timed (4 as 5).
    """
    accuracy = json.loads((RESULTS / "assistant_accuracy.json").read_text())
    cost = {n: per_batch[min(b for b in per_batch if b >= n)] for n in range(1, DRAFTED + 2)}
    one_by_one = drafted = 0.0
    answers = 0
    for meeting in accuracy["meetings"]:
        lines = "".join(said(_truth(EVAL / f"{meeting['meeting']}.json")))
        for asked in meeting["questions"]:
            answer = asked["answer"].split("Key moments:")[0].strip()
            if not answer:
                continue
            context = llm.tokens(lines + QUESTION_OPENER + asked["question"] + ASSISTANT_TURN)
            written = llm.tokens(answer)
            one_by_one += len(written) * cost[1]
            drafted += _drafted_s(context, written, cost)
            answers += 1
    return {
        "answers": answers,
        "one_token_at_a_time_s": one_by_one,
        "prompt_lookup_s": drafted,
        "ratio": drafted / one_by_one if one_by_one else 0.0,
    }


def _truth(path: Path) -> dict:
    return json.loads(path.read_text())


def _drafted_s(context: list[int], written: list[int], cost: dict[int, float]) -> float:
    total, i = 0.0, 0
    while i < len(written):
        seen = context + written[:i]
        tail = seen[-LOOKUP:]
        guess: list[int] = []
        for j in range(len(seen) - LOOKUP - 1, -1, -1):
            if seen[j : j + LOOKUP] == tail:
                guess = seen[j + LOOKUP : j + LOOKUP + DRAFTED]
                break
        kept = 0
        while kept < len(guess) and i + 1 + kept < len(written):
            if written[i + 1 + kept] != guess[kept]:
                break
            kept += 1
        total += cost[1 + len(guess)]
        i += 1 + kept
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="qwen2.5-coder-1.5b")
    parser.add_argument("--depth", type=int, default=6000, help="prefix tokens (60 min: ~6,100)")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    llm = LlamaCppLLM(args.llm, threads=2, batch_threads=2)
    llm.reset(meeting_text(args.depth, llm))
    depth = llm.prefix_tokens
    llm.set_threads(1, 1)  # the live assistant's setting beside captions
    alone_deep = timed(lambda: first_token_s(llm), args.rounds)
    per_batch = {n: timed(lambda n=n: batch_s(llm, n), args.rounds) for n in BATCHES}
    replay = beside_replay(llm, args.rounds)
    llm.set_threads(2, 2)
    llm.reset(meeting_text(SHALLOW, llm))
    llm.set_threads(1, 1)
    alone_shallow = timed(lambda: first_token_s(llm), args.rounds)
    drafting = drafting_cost(llm, {n: t["median_s"] for n, t in per_batch.items()})

    print(f"\n{args.llm}, one thread, question of {len(llm.tokens(QUESTION))} tokens:")
    rows = [
        [f"alone, {SHALLOW}-token prefix", alone_shallow],
        [f"alone, {depth}-token prefix", alone_deep],
        *([f"{name}, {depth}-token prefix", t] for name, t in replay.items()),
    ]
    print_table(
        ["question + first token", "median (s)", "range (s)"],
        [[name, t["median_s"], f"{t['min_s']:.2f}-{t['max_s']:.2f}"] for name, t in rows],
    )
    print(f"\nTokens read in one batch after {depth} tokens, alone:")
    print_table(
        ["tokens", "median (s)", "per token (s)"],
        [[n, t["median_s"], t["median_s"] / n] for n, t in per_batch.items()],
    )
    print(
        f"\nPrompt-lookup drafting on {drafting['answers']} eval answers: "
        f"{drafting['prompt_lookup_s']:.1f} s against {drafting['one_token_at_a_time_s']:.1f} s "
        f"one token at a time ({drafting['ratio']:.2f}x)"
    )
    path = write_results(
        "question_cost",
        {
            "llm": args.llm,
            "threads": 1,
            "prefix_tokens": depth,
            "question_tokens": len(llm.tokens(QUESTION)),
            "first_token": {"alone_shallow": alone_shallow, "alone_deep": alone_deep, **replay},
            "batch": per_batch,
            "prompt_lookup": drafting,
        },
    )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
