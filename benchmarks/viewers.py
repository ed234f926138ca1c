"""Many viewers of one meeting: does caption delay hold with 20 pages connected?

Replays a meeting in real time with `roomtone replay FILE --realtime --web` (the same
server `live --web` runs) and connects WebSocket viewers to it, as the page does. Each
viewer times every caption event it receives: delay = arrival (wall clock) minus the
moment its last word ended (session clock origin + word end). The same meeting is
replayed twice in one run, with 1 viewer and with N, and the delays are compared.
The viewers run in this process on the same machine as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
import numpy as np
import soundfile as sf
from machine import describe, print_table, write_results

from roomtone.streaming.sources import decode_file

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


class PageClock:
    """What a page knows of the session clock, and the caption delays it sees.

    A caption's delay is taken when it is first shown and when it first turns final;
    later re-sends (a second-pass revision ~20 s on, a new speaker label) are not a
    delay a reader waits through. Only events after the history (``caught_up``) count.
    """

    def __init__(self) -> None:
        self.origin: float | None = None
        self.live = False
        self._shown: set[str] = set()
        self._finals: set[str] = set()

    def delay(self, event: dict) -> float | None:
        """Take one message; the caption delay it shows, if it shows one."""
        kind = event.get("type")
        if kind == "hello":
            self.origin = event.get("clock_origin")
        elif kind == "clock":
            self.origin = event["origin"]
        elif kind == "caught_up":
            self.live = True
        elif kind == "caption" and self.live and self.origin and event.get("words"):
            first = event["id"] not in self._shown
            first_final = event["final"] and event["id"] not in self._finals
            self._shown.add(event["id"])
            if event["final"]:
                self._finals.add(event["id"])
            if first or (first_final and not event.get("revised")):
                return time.time() - self.origin - event["end"]
        return None


def start_served_replay(audio: Path, db: Path) -> tuple[subprocess.Popen, str]:
    """`roomtone replay AUDIO --realtime --web`; the process and its page's URL."""
    cmd = [sys.executable, "-m", "roomtone.cli", "replay", str(audio), "--realtime", "--web",
           "--port", "0", "--quiet", "--session", str(db)]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if found := re.search(r"the caption page is at (http://\S+)", line):
            return proc, found.group(1)
    raise SystemExit(f"the server did not start (rc {proc.wait()})")


async def viewer(url: str, delays: list[float], ready: asyncio.Event) -> int:
    """One page's worth of WebSocket: count events, time live captions."""
    received = 0
    clock = PageClock()
    async with aiohttp.ClientSession() as http, http.ws_connect(url + "ws") as ws:
        ready.set()
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            received += 1
            if (delay := clock.delay(message.json())) is not None:
                delays.append(delay)
    return received


async def watch(url: str, count: int) -> list[tuple[list[float], int]]:
    """Connect ``count`` viewers and follow the meeting until the server ends it."""
    delays: list[list[float]] = [[] for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.create_task(viewer(url, d, r)) for d, r in zip(delays, readies, strict=True)]
    await asyncio.gather(*(r.wait() for r in readies))
    received = await asyncio.gather(*tasks, return_exceptions=True)
    return [(d, r if isinstance(r, int) else -1) for d, r in zip(delays, received, strict=True)]


def run(audio: Path, count: int, db: Path) -> dict:
    """One real-time replay with ``count`` viewers."""
    proc, url = start_served_replay(audio, db)
    cpu0 = time.process_time()
    results = asyncio.run(watch(url, count))
    viewers_cpu = time.process_time() - cpu0
    proc.wait(timeout=60)
    every = [d for delays, _ in results for d in delays]
    per_viewer_p50 = [statistics.median(d) for d, _ in results if d]
    return {
        "viewers": count,
        "caption_events_per_viewer": statistics.median(len(d) for d, _ in results),
        "events_per_viewer_min": min(r for _, r in results),
        "events_per_viewer_max": max(r for _, r in results),
        "delay_p50_s": float(np.percentile(every, 50)),
        "delay_p95_s": float(np.percentile(every, 95)),
        "delay_max_s": float(max(every)),
        "worst_viewer_p50_s": max(per_viewer_p50),
        "viewers_cpu_s": viewers_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meeting", default="dev_m01_launch")
    parser.add_argument("--seconds", type=float, default=120.0, help="how much of it to replay")
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--eval-dir", type=Path, default=EVAL)
    parser.add_argument("--work", type=Path, default=Path("/tmp/roomtone-bench/viewers"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    audio = decode_file(args.eval_dir / f"{args.meeting}.flac")[: int(args.seconds * 16000)]
    clip = args.work / f"{args.meeting}_{int(args.seconds)}s.wav"
    sf.write(clip, audio, 16000, subtype="PCM_16")
    rows = []
    for count in (1, args.viewers):
        db = args.work / f"viewers_{count}.db"
        db.unlink(missing_ok=True)
        rows.append(run(clip, count, db))
    single, many = rows
    payload = {
        "machine": describe(),
        "meeting": args.meeting,
        "audio_s": args.seconds,
        "runs": rows,
        "p50_increase_s": many["delay_p50_s"] - single["delay_p50_s"],
        "p95_increase_s": many["delay_p95_s"] - single["delay_p95_s"],
        "target_s": 0.3,
    }
    payload["pass"] = payload["p50_increase_s"] <= 0.3 and payload["p95_increase_s"] <= 0.3
    print_table(
        ["viewers", "caption events", "delay p50 s", "p95 s", "max s", "worst viewer p50 s"],
        [
            [r["viewers"], r["caption_events_per_viewer"], r["delay_p50_s"], r["delay_p95_s"],
             r["delay_max_s"], r["worst_viewer_p50_s"]]
            for r in rows
        ],
    )  # fmt: skip
    print(
        f"p50 +{payload['p50_increase_s']:.3f} s, p95 +{payload['p95_increase_s']:.3f} s "
        f"with {args.viewers} viewers (target <= 0.3 s): {'pass' if payload['pass'] else 'FAIL'}"
    )
    print(f"wrote {write_results('viewers', payload)}")


if __name__ == "__main__":
    main()
