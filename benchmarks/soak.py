"""Soak: a long meeting replayed live with 20 viewers connecting and reconnecting.

`roomtone replay MEETING --realtime --web` runs the eval meetings end to end for
``--minutes`` (120 by default) while 20 WebSocket viewers follow it; every few minutes
each viewer drops its connection and comes back (a page reload), catching up from the
history. Every minute the server's RSS and the viewers' caption delays are sampled.
At the end each viewer's picture of the meeting (the latest version of every caption,
turn and sound) is compared with the session database: an event missing is a loss.

    python benchmarks/soak.py [--minutes 120] [--viewers 20]

Reports: memory slope after the first 10 minutes (MB/hour), caption delay p95 per
minute (minute 5 vs the last), events lost. Writes benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from long_session import build_input
from machine import describe, print_table, write_results
from viewers import PageClock, start_served_replay

from roomtone.assistant.store import SessionStore
from roomtone.ui.hub import event_key

RECONNECT_EVERY_S = (120.0, 360.0)  # each viewer reloads its page within this range


class Viewer:
    """One page: follows the meeting, reloads now and then, keeps what it was shown."""

    def __init__(self, url: str, rng: random.Random) -> None:
        self.url, self.rng = url, rng
        self.seen: dict[tuple[str, str], dict] = {}
        self.delays: list[tuple[float, float]] = []  # (wall time, delay s)
        self.reconnects = 0
        self.finished = False

    async def follow(self, http: aiohttp.ClientSession) -> None:
        """Connect, catch up, follow; reload at random until the server ends the meeting."""
        while not self.finished:
            reload_at = time.monotonic() + self.rng.uniform(*RECONNECT_EVERY_S)
            try:
                await self._session(http, reload_at)
            except (aiohttp.ClientError, ConnectionError):
                await asyncio.sleep(1.0)
                if self.finished:
                    return

    async def _session(self, http: aiohttp.ClientSession, reload_at: float) -> None:
        self.seen.clear()  # a reloaded page starts empty and catches up
        clock = PageClock()
        async with http.ws_connect(self.url + "ws", heartbeat=30) as ws:
            while True:
                timeout = reload_at - time.monotonic()
                if timeout <= 0:
                    self.reconnects += 1
                    return
                try:
                    message = await ws.receive(timeout=timeout)
                except TimeoutError:
                    self.reconnects += 1
                    return
                if message.type != aiohttp.WSMsgType.TEXT:
                    self.finished = message.type in (aiohttp.WSMsgType.CLOSE,
                                                     aiohttp.WSMsgType.CLOSED)  # fmt: skip
                    return
                event = message.json()
                if event.get("type") in ("caption", "speaker", "sound", "emotion"):
                    self.seen[event_key(event, 0)] = event
                if (delay := clock.delay(event)) is not None:
                    self.delays.append((time.time(), delay))


def expected_keys(db: Path) -> set[tuple[str, str]]:
    """What every viewer should hold at the end: one key per caption, turn, sound, flag."""
    with SessionStore(db) as store:
        events = list(store.events(store.latest_session()))
    keys = set()
    for event in events:
        kind = event["type"]
        if kind in ("caption", "speaker", "sound", "emotion"):
            keys.add(event_key(event, 0))
    return keys


async def soak(url: str, proc: subprocess.Popen, viewers: int, seed: int) -> dict:
    rng = random.Random(seed)
    pages = [Viewer(url, random.Random(rng.random())) for _ in range(viewers)]
    server = psutil.Process(proc.pid)
    samples: list[tuple[float, float]] = []  # (minutes, RSS MB)
    t0 = time.monotonic()

    async def sample() -> None:
        while proc.poll() is None:
            try:
                rss = sum(p.memory_info().rss for p in [server, *server.children(True)])
            except psutil.Error:
                return
            samples.append(((time.monotonic() - t0) / 60, rss / 2**20))
            await asyncio.sleep(60)

    sampler = asyncio.create_task(sample())
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(page.follow(http) for page in pages))
    sampler.cancel()
    return {"pages": pages, "rss": samples, "t0_wall": time.time() - (time.monotonic() - t0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--work", type=Path, default=Path("/tmp/roomtone-bench/soak"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    audio = build_input(args.minutes, args.work)
    db = args.work / "soak.db"
    for stale in args.work.glob("soak.db*"):
        stale.unlink()
    proc, url = start_served_replay(audio, db)
    result = asyncio.run(soak(url, proc, args.viewers, args.seed))
    proc.wait(timeout=120)
    pages, rss = result["pages"], result["rss"]
    keys = expected_keys(db)
    lost = [len(keys - set(page.seen)) for page in pages]

    t0 = result["t0_wall"]
    per_minute: dict[int, list[float]] = {}
    for page in pages:
        for wall, delay in page.delays:
            per_minute.setdefault(int((wall - t0) // 60), []).append(delay)
    minutes = sorted(per_minute)
    p95 = {m: float(np.percentile(per_minute[m], 95)) for m in minutes}
    settled = [(m, r) for m, r in rss if m >= 10]
    slope = float(np.polyfit(*zip(*settled, strict=True), 1)[0]) * 60 if len(settled) > 2 else None
    last = minutes[-2] if len(minutes) > 1 else minutes[-1]  # the final minute is partial
    payload = {
        "machine": describe(),
        "minutes": args.minutes,
        "viewers": args.viewers,
        "reconnects": sum(page.reconnects for page in pages),
        "rss_mb": [[round(m, 2), round(r, 1)] for m, r in rss],
        "rss_slope_mb_per_hour_after_10min": slope,
        "delay_p95_by_minute": {str(m): round(v, 3) for m, v in p95.items()},
        "delay_p95_minute_5": p95.get(5),
        "delay_p95_last_minute": p95.get(last),
        "events_expected": len(keys),
        "events_lost_per_viewer": lost,
        "events_lost": sum(lost),
    }
    print_table(
        ["minute", "RSS MB", "delay p95 s"],
        [[round(m), r, p95.get(int(m))] for m, r in rss[:: max(1, len(rss) // 12)]],
    )
    print(
        f"RSS slope after 10 min: {slope if slope is None else round(slope, 1)} MB/hour; "
        f"delay p95 minute 5 {p95.get(5)} s, minute {last} {p95.get(last)} s; "
        f"{payload['reconnects']} reconnects; events lost {payload['events_lost']} "
        f"of {len(keys)} x {args.viewers} viewers; median delay "
        f"{statistics.median(d for p in pages for _, d in p.delays):.3f} s"
    )
    print(f"wrote {write_results('soak', payload)}")


if __name__ == "__main__":
    main()
