"""The assistant (issue 4): answers, action items, and speed with and without the prefix cache.

Accuracy: every eval meeting is replayed in real time through the whole pipeline;
each late-joiner question is asked at its ``asked_at`` (only what a live session
had shown by then, revisions included), and scored: all keywords present
(normalised, alternatives accepted) and a citation inside the evidence range.
Action items are scored for owner, due date and ``said_at`` within 10 s; a cut of
a meeting with no action items must give none.
All of it twice, side by side: as heard, and with the session told who is in the
meeting (its speakers' names, as an invite lists them: ``roomtone replay --people``).

Speed: the meetings' transcripts are repeated into a ``--minutes`` long session;
while a live --realtime replay runs beside it, questions are timed with the cached
prefix and with the cache off (the whole prefix evaluated again), side by side; the
cached answers with the model on every core and on one core fewer, alternating.

Memory: the memory follows an ``--hours`` long session ten minutes at a time (folding
as the context fills); RSS after each step, and its peak.

    python benchmarks/assistant.py [--llm qwen2.5-coder-1.5b] [--minutes 60] [--hours 3]
        [--only accuracy|speed|memory] [--events-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from machine import print_table, write_results
from replay import replay
from whisper_normalizer.english import EnglishTextNormalizer

from roomtone.assistant.actions import action_items
from roomtone.assistant.memory import MeetingMemory
from roomtone.assistant.transcript import Transcript
from roomtone.plugins.llm_llamacpp import LlamaCppLLM, threads_beside_captions
from roomtone.plugins.whisper_captioner import WhisperCaptioner

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
ROUNDS = 5  # timed rounds of the questions per thread count (medians and ranges reported)
normalise = EnglishTextNormalizer()


def transcript_until(events: list[dict], at: float, shift: float = 0.0) -> Transcript:
    """What the assistant had heard by session time ``at``."""
    transcript = Transcript()
    for event in events:
        if event.get("emitted", 0.0) <= at:
            transcript.add(_shifted(event, shift) if shift else event)
    return transcript


def _shifted(event: dict, shift: float) -> dict:
    out = dict(event)
    for key in ("start", "end", "emitted", "at"):
        if key in out and out[key] is not None:
            out[key] = out[key] + shift
    if "id" in out:
        out["id"] = f"{out['id']}@{shift:.0f}"
    if "turn" in out:
        out["turn"] = f"{out['turn']}@{shift:.0f}"
    if "words" in out:
        out["words"] = [
            {**w, "start": w["start"] + shift, "end": w["end"] + shift} for w in out["words"]
        ]
    return out


def keywords_ok(answer: str, question: dict) -> bool:
    text = normalise(answer)
    alternatives = question.get("keyword_alternatives", {})
    return all(
        any(normalise(k) in text for k in [keyword, *alternatives.get(keyword, [])])
        for keyword in question["answer_keywords"]
    )


def due_ok(predicted: str, truth: str) -> bool:
    a, b = normalise(predicted), normalise(truth)
    return bool(a) and (a in b or b in a or bool(set(a.split()) & set(b.split()) - {"the", "of"}))


def meeting_events(recognizer: WhisperCaptioner, audio: Path, saved: Path | None) -> list[dict]:
    """The events of a --realtime replay of ``audio`` with every engine on.

    Paced at 1x, so the captions' second pass lands when it would in a live meeting:
    a --fast replay gives the same live captions, but its revisions run on wall time
    while the session clock races ahead, so they land far later in session time than
    live. With ``saved`` (a folder), an event log kept there from an earlier replay of
    the same file (``roomtone replay --realtime --events``) is read instead.
    """
    log = saved / f"{audio.stem}.jsonl" if saved else None
    if log is not None and log.is_file():
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    events = replay(recognizer, audio, realtime=True, engines=True)[0]
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(json.dumps(e) + "\n" for e in events))
    return events


def accuracy(llm: LlamaCppLLM, events: list[dict], meeting: str, people: bool) -> dict:
    """Late-joiner answers and action items on one meeting.

    ``people``: the session is told who is in the meeting (the speakers' names, as an
    invite lists them; someone who is only talked about, like dev_m01's Priya, is not).
    """
    truth = json.loads((EVAL / f"{meeting}.json").read_text())
    if people:
        names = [speaker["name"] for speaker in truth["speakers"].values()]
        events = [{"type": "people", "names": names}, *events]
    memory = MeetingMemory(llm)
    answered = []
    for q in sorted(truth["questions"], key=lambda q: q["asked_at"]):
        transcript = transcript_until(events, q["asked_at"])
        memory.update(transcript)
        since = q["since"] if q["kind"] == "since" else None
        answer = memory.answer(q["question"], transcript, since=since)
        lo, hi = q["evidence"]
        cited = any(s <= hi + 1 and e >= lo - 1 for s, e in answer.citations)
        answered.append(
            {
                "question": q["question"],
                "answer": answer.text,
                "keywords": keywords_ok(answer.text, q),
                "cited": cited,
            }
        )
    transcript = transcript_until(events, float("inf"))
    memory.update(transcript)
    items = action_items(memory, transcript)
    found = [
        t
        for t in truth["action_items"]
        if any(
            i.owner.lower() == t["owner"].lower()
            and due_ok(i.due, t["due"])
            and abs(i.said_at - t["said_at"]) <= 10
            for i in items
        )
    ]
    return {
        "meeting": meeting,
        "questions": answered,
        "answers_ok": sum(a["keywords"] and a["cited"] for a in answered),
        "questions_asked": len(answered),
        "action_items_found": len(found),
        "action_items_true": len(truth["action_items"]),
        "action_items_predicted": [i.to_json() for i in items],
    }


def no_action_meeting(
    llm: LlamaCppLLM, recognizer: WhisperCaptioner, saved: Path | None, people: bool
) -> list:
    """dev_m03's opening (greetings and status, no task taken on) must give no action items."""
    import tempfile

    import soundfile as sf

    from roomtone.streaming.sources import decode_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dev_m03_opening_no_actions.wav"
        audio = decode_file(EVAL / "dev_m03_onboarding.flac")[: int(24.2 * 16000)]
        sf.write(path, audio, 16000, subtype="PCM_16")
        events = meeting_events(recognizer, path, saved)
    if people:
        events = [{"type": "people", "names": ["Julia", "Ivan"]}, *events]
    transcript = transcript_until(events, float("inf"))
    memory = MeetingMemory(llm)
    memory.update(transcript)
    return [i.to_json() for i in action_items(memory, transcript)]


def long_transcript(pieces: list[tuple[list[dict], float]], minutes: float) -> Transcript:
    """The eval meetings' events one after another (2 s apart) until ``minutes`` long."""
    transcript, offset, i = Transcript(), 0.0, 0
    while offset < minutes * 60:
        events, duration = pieces[i % len(pieces)]
        for event in events:
            transcript.add(_shifted(event, offset))
        offset += duration + 2.0
        i += 1
    return transcript


class LiveReplay:
    """A realtime replay of dev_m01 in another process, started again each time it ends.

    ``launcher``: a command the replay runs under (``("nice", "-n", "10")``, ``taskset``).
    """

    def __init__(self, launcher: tuple[str, ...] = ()) -> None:
        self._launcher = launcher
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LiveReplay:
        self._thread.start()
        time.sleep(5)  # the pipeline is up and captioning
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            command = [
                *self._launcher,
                sys.executable,
                "-m",
                "roomtone.cli",
                "replay",
                str(EVAL / "dev_m01_launch.flac"),
                "--realtime",
                "--quiet",
                "--session",
                f"{tmp}/live.db",
            ]
            while not self._stop.is_set():
                process = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                while process.poll() is None:
                    if self._stop.wait(0.5):
                        process.terminate()
                        process.wait()
                        return


def speed(llm: LlamaCppLLM, pieces: list[tuple[list[dict], float]], minutes: float) -> dict:
    """First token and whole answer at ``minutes``, cache on and off, beside a live replay.

    The cached answers are timed with the model on every core and on all but one (the
    other left to the captions, as the live assistant runs), alternating, twice each;
    the headline and the cache-off answer use the live assistant's setting.
    """
    transcript = long_transcript(pieces, minutes)
    memory = MeetingMemory(llm)
    t0 = time.perf_counter()
    memory.update(transcript)
    build_s = time.perf_counter() - t0
    questions = [
        "What did I miss in the last five minutes?",
        "Who agreed to fix the open mobile app bugs?",
        "When is the press release due?",
        # asked with its task clause before it ("Laura will have the failover test ..."):
        # a who-question that finds one costs its clause's tokens too
        "Who agreed to add the failover test, and when is it due?",
    ]
    live = threads_beside_captions()
    counts = sorted({os.cpu_count() or 1, live}, reverse=True)
    rounds: dict[int, list[list]] = {n: [] for n in counts}
    with LiveReplay():
        for _ in range(ROUNDS):
            for n in counts:
                llm.set_threads(n, n)
                rounds[n].append([memory.answer(q, transcript) for q in questions])
        by_threads = {n: _timings(rounds[n]) for n in counts}
        llm.set_threads(live, live)
        uncached = memory.answer(questions[1], transcript, use_prefix=False)
    cached = by_threads[live]
    return {
        "minutes": minutes,
        "prefix_tokens": llm.prefix_tokens,
        "folds": len(memory.folded),
        "prefix_build_s": build_s,
        "questions": questions,
        "by_threads": by_threads,
        "threads": live,
        "cached_first_token_s": cached["first_token_s"],
        "cached_total_s": cached["total_s"],
        "cached_prompt_tokens": cached["prompt_tokens"],
        "uncached_first_token_s": uncached.first_token_s,
        "uncached_total_s": uncached.total_s,
        "ratio_first_token": uncached.first_token_s / max(1e-6, max(cached["first_token_s"])),
        "answers": cached["answers"],
        "rss_mb": psutil.Process().memory_info().rss / 2**20,
    }


def _timings(rounds: list[list]) -> dict:
    """Per question: the median over rounds of first token and whole answer (and the first
    token's range: the live replay beside it makes single timings vary); the answers."""
    per_question = list(zip(*rounds, strict=True))
    return {
        "first_token_s": [statistics.median(a.first_token_s for a in q) for q in per_question],
        "first_token_range_s": [
            [min(a.first_token_s for a in q), max(a.first_token_s for a in q)] for q in per_question
        ],
        "total_s": [statistics.median(a.total_s for a in q) for q in per_question],
        "prompt_tokens": [a.prompt_tokens for a in rounds[0]],
        "answers": [a.text for a in rounds[-1]],
    }


def long_session_memory(
    llm: LlamaCppLLM, pieces: list[tuple[list[dict], float]], hours: float
) -> dict:
    """Peak RSS while the memory follows a ``hours``-long meeting, ten minutes at a time."""
    process = psutil.Process()
    memory = MeetingMemory(llm)
    rss, answers = [], []
    for minute in range(10, int(hours * 60) + 1, 10):
        transcript = long_transcript(pieces, minute)
        memory.update(transcript)
        answers.append(memory.answer("When is the press release due?", transcript).total_s)
        rss.append(process.memory_info().rss / 2**20)
        print(
            f"  {minute:4d} min: prefix {llm.prefix_tokens} tokens, {len(memory.folded)} folds, "
            f"RSS {rss[-1]:.0f} MB, answer {answers[-1]:.1f} s",
            flush=True,
        )
    return {
        "hours": hours,
        "rss_mb_every_10_min": rss,
        "peak_rss_mb": max(rss),
        "folds": len(memory.folded),
        "answer_s_every_10_min": answers,
    }


PARTS = ("accuracy", "speed", "memory")
DEFAULT_LLM = "qwen2.5-coder-1.5b"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default=DEFAULT_LLM)
    parser.add_argument("--files", nargs="*")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--hours", type=float, default=3, help="the long session for memory")
    parser.add_argument(
        "--only", choices=PARTS, help="run one part (results go to assistant_<part>.json)"
    )
    parser.add_argument(
        "--events-dir", type=Path, help="keep (and reuse) the replays' event logs in this folder"
    )
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    manifest = json.loads((EVAL / "manifest.json").read_text())
    ids = args.files or [Path(f["audio"]).stem for f in manifest["files"]]
    parts = [args.only] if args.only else list(PARTS)
    recognizer = WhisperCaptioner("tiny.en")
    llm = LlamaCppLLM(args.llm)
    events = {m: meeting_events(recognizer, EVAL / f"{m}.flac", args.events_dir) for m in ids}
    durations = {m: json.loads((EVAL / f"{m}.json").read_text())["duration"] for m in ids}
    pieces = [(events[m], durations[m]) for m in ids]
    payload: dict = {"llm": args.llm}
    if "accuracy" in parts:
        payload.update(report_accuracy(llm, recognizer, events, args.events_dir))
    if "speed" in parts:
        timing = payload["speed"] = speed(llm, pieces, args.minutes)
        first = max(timing["cached_first_token_s"])
        print(
            f"\n{timing['minutes']:.0f}-minute session ({timing['prefix_tokens']} prefix tokens, "
            f"built in {timing['prefix_build_s']:.0f} s), beside a live replay: first token "
            f"cached {first:.2f} s, whole answer {max(timing['cached_total_s']):.2f} s; cache off: "
            f"first token {timing['uncached_first_token_s']:.1f} s, whole answer "
            f"{timing['uncached_total_s']:.1f} s ({timing['ratio_first_token']:.0f}x)"
        )
        print_table(
            ["threads", "question", "first token (s)", "its range (s)", "whole answer (s)"],
            [
                [
                    n,
                    q,
                    f"{t['first_token_s'][i]:.2f}",
                    "{:.2f}-{:.2f}".format(*t["first_token_range_s"][i]),
                    f"{t['total_s'][i]:.2f}",
                ]
                for n, t in timing["by_threads"].items()
                for i, q in enumerate(timing["questions"])
            ],
        )
    if "memory" in parts:
        memory_use = payload["long_session"] = long_session_memory(llm, pieces, args.hours)
        print(
            f"\n{args.hours:.0f}-hour session: peak RSS {memory_use['peak_rss_mb']:.0f} MB, "
            f"{memory_use['folds']} folds"
        )
    name = "assistant" + (f"_{args.only}" if args.only else "")
    if args.llm != DEFAULT_LLM:  # another model's results beside the bundled one's
        name += "_" + (Path(args.llm).stem if args.llm.endswith(".gguf") else args.llm)
    path = write_results(name, payload)
    print(f"\nwrote {path}")


def report_accuracy(
    llm: LlamaCppLLM,
    recognizer: WhisperCaptioner,
    events: dict[str, list[dict]],
    saved: Path | None,
) -> dict:
    """Answers and action items on every meeting and the meeting with none, printed.

    Twice, side by side: as heard, and told who is in each meeting (``--people``).
    """
    runs = {}
    for people in (False, True):
        results = [accuracy(llm, log, m, people) for m, log in events.items()]
        invented = no_action_meeting(llm, recognizer, saved, people)
        runs[people] = _accuracy_summary(results, invented)
        if people:
            continue
        for r in results:
            for q in r["questions"]:
                mark = "ok" if q["keywords"] and q["cited"] else "--"
                print(f"{mark} {r['meeting']}: {q['question']}\n     {q['answer']}")
    print(
        "\nAssistant accuracy (targets: >= 90% of answers with the keywords and a citation "
        "in the evidence;\naction-item recall >= 90%)\n"
    )
    rows = []
    for people, run in runs.items():
        told = "told who is there" if people else "as heard"
        rows += [
            [
                told,
                r["meeting"],
                f"{r['answers_ok']}/{r['questions_asked']}",
                f"{r['action_items_found']}/{r['action_items_true']}",
                len(r["action_items_predicted"]),
            ]
            for r in run["meetings"]
        ]
        rows.append(
            [
                told,
                "all",
                f"{run['answers_ok']:.2f}",
                f"{run['action_item_recall']:.2f}",
                f"invented {len(run['invented_action_items'])}",
            ]
        )
    print_table(["people", "meeting", "answers ok", "action items found", "predicted"], rows)
    return {**runs[False], "with_people": runs[True]}


def _accuracy_summary(results: list[dict], invented: list) -> dict:
    answers = sum(r["answers_ok"] for r in results) / sum(r["questions_asked"] for r in results)
    recall = sum(r["action_items_found"] for r in results) / sum(
        r["action_items_true"] for r in results
    )
    return {
        "meetings": results,
        "answers_ok": answers,
        "action_item_recall": recall,
        "invented_action_items": invented,
    }


if __name__ == "__main__":
    main()
