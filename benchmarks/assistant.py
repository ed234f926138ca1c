"""The assistant (issue 4): answers, action items, and speed with and without the prefix cache.

Accuracy: every eval meeting is replayed --fast through the whole pipeline; each
late-joiner question is asked at its ``asked_at`` (only what was heard by then),
and scored: all keywords present (normalised, alternatives accepted) and a citation
inside the evidence range. Action items are scored for owner, due date and
``said_at`` within 10 s; a cut of a meeting with no action items must give none.

Speed: the meetings' transcripts are repeated into a ``--minutes`` long session;
while a live --realtime replay runs beside it, questions are timed with the cached
prefix and with the cache off (the whole prefix evaluated again), side by side.

    python benchmarks/assistant.py [--llm qwen2.5-coder-1.5b] [--minutes 60] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
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
from roomtone.plugins.llm_llamacpp import LlamaCppLLM
from roomtone.plugins.whisper_captioner import WhisperCaptioner

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"
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


def accuracy(llm: LlamaCppLLM, recognizer: WhisperCaptioner, meeting: str) -> dict:
    truth = json.loads((EVAL / f"{meeting}.json").read_text())
    events = replay(recognizer, EVAL / truth["audio"], realtime=False, engines=True)[0]
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


def no_action_meeting(llm: LlamaCppLLM, recognizer: WhisperCaptioner, folder: Path) -> list[dict]:
    """dev_m03's opening (greetings and status, no task taken on) must give no action items."""
    import soundfile as sf

    from roomtone.streaming.sources import decode_file

    audio = decode_file(EVAL / "dev_m03_onboarding.flac")[: int(24.2 * 16000)]
    path = folder / "no_actions.wav"
    sf.write(path, audio, 16000, subtype="PCM_16")
    events = replay(recognizer, path, realtime=False, engines=True)[0]
    transcript = transcript_until(events, float("inf"))
    memory = MeetingMemory(llm)
    memory.update(transcript)
    return [i.to_json() for i in action_items(memory, transcript)]


def speed(llm: LlamaCppLLM, recognizer: WhisperCaptioner, minutes: float) -> dict:
    """First token and whole answer at ``minutes``, cache on and off, beside a live replay."""
    pieces = []
    for meeting in sorted(p.stem for p in EVAL.glob("dev_m*.flac")):
        truth = json.loads((EVAL / f"{meeting}.json").read_text())
        pieces.append(
            (
                replay(recognizer, EVAL / truth["audio"], realtime=False, engines=True)[0],
                truth["duration"],
            )
        )
    transcript, offset, i = Transcript(), 0.0, 0
    while offset < minutes * 60:
        events, duration = pieces[i % len(pieces)]
        for event in events:
            transcript.add(_shifted(event, offset))
        offset += duration + 2.0
        i += 1
    memory = MeetingMemory(llm)
    t0 = time.perf_counter()
    memory.update(transcript)
    build_s = time.perf_counter() - t0
    live = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "roomtone.cli",
            "replay",
            str(EVAL / "dev_m01_launch.flac"),
            "--realtime",
            "--quiet",
            "--session",
            "/tmp/roomtone-bench-live.db",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)
        questions = [
            "What did I miss in the last five minutes?",
            "Who agreed to fix the open mobile app bugs?",
            "When is the press release due?",
        ]
        cached = [memory.answer(q, transcript) for q in questions]
        uncached = memory.answer(questions[1], transcript, use_prefix=False)
    finally:
        live.terminate()
        live.wait()
    return {
        "minutes": minutes,
        "prefix_tokens": llm.prefix_tokens,
        "prefix_build_s": build_s,
        "cached_first_token_s": [a.first_token_s for a in cached],
        "cached_total_s": [a.total_s for a in cached],
        "uncached_first_token_s": uncached.first_token_s,
        "uncached_total_s": uncached.total_s,
        "ratio_first_token": uncached.first_token_s
        / max(1e-6, max(a.first_token_s for a in cached)),
        "peak_rss_mb": psutil.Process().memory_info().rss / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="qwen2.5-coder-1.5b")
    parser.add_argument("--files", nargs="*")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    manifest = json.loads((EVAL / "manifest.json").read_text())
    ids = args.files or [Path(f["audio"]).stem for f in manifest["files"]]
    recognizer = WhisperCaptioner("tiny.en")
    llm = LlamaCppLLM(args.llm, context_tokens=16_384)
    results = [accuracy(llm, recognizer, m) for m in ids]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        invented = no_action_meeting(llm, recognizer, Path(tmp))
    rows = [
        [
            r["meeting"],
            f"{r['answers_ok']}/{r['questions_asked']}",
            f"{r['action_items_found']}/{r['action_items_true']}",
            len(r["action_items_predicted"]),
        ]
        for r in results
    ]
    print(
        "\nAssistant accuracy (targets: >= 90% of answers with the keywords and a citation "
        "in the evidence;\naction-item recall >= 90%)\n"
    )
    print_table(["meeting", "answers ok", "action items found", "predicted"], rows)
    answers = sum(r["answers_ok"] for r in results) / sum(r["questions_asked"] for r in results)
    recall = sum(r["action_items_found"] for r in results) / sum(
        r["action_items_true"] for r in results
    )
    print(
        f"\nanswers ok {answers:.2f}; action-item recall {recall:.2f}; "
        f"invented on a meeting with none: {len(invented)}"
    )
    timing = None if args.skip_speed else speed(llm, recognizer, args.minutes)
    if timing:
        first = max(timing["cached_first_token_s"])
        print(
            f"\n{timing['minutes']:.0f}-minute session ({timing['prefix_tokens']} prefix tokens, "
            f"built in {timing['prefix_build_s']:.0f} s): first token cached {first:.2f} s, "
            f"whole answer {max(timing['cached_total_s']):.2f} s; cache off: first token "
            f"{timing['uncached_first_token_s']:.1f} s ({timing['ratio_first_token']:.0f}x)"
        )
    path = write_results(
        "assistant",
        {
            "llm": args.llm,
            "meetings": results,
            "answers_ok": answers,
            "action_item_recall": recall,
            "invented_action_items": invented,
            "speed": timing,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
