"""A 60-minute meeting replayed --fast: memory stays flat and an update costs the same.

The eval meetings are concatenated (in a loop) into one long input. While it
replays through the real pipeline, peak RSS is sampled, and the CPU time of every
caption update is recorded against the session time it happened at.

    python benchmarks/long_session.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from machine import print_table, write_results

from roomtone.plugins.whisper_captioner import WhisperCaptioner
from roomtone.streaming.captioning import StreamingCaptioner
from roomtone.streaming.pipeline import run_pipeline
from roomtone.streaming.sources import decode_file, file_frames

EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


class TimedRecognizer:
    """Wraps a recogniser and records (session time, wall seconds, window seconds) per call.

    Wall time, not thread CPU time: CTranslate2 computes in its own threads.
    """

    def __init__(self, inner: WhisperCaptioner) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self.name = inner.name
        self.calls: list[tuple[float, float, float]] = []
        self.revisions: list[tuple[float, float, float]] = []

    def transcribe(self, audio: np.ndarray, offset: float, prefix: str = "") -> list:
        return self._timed(self.calls, self.inner.transcribe, audio, offset, prefix)

    def revise(self, audio: np.ndarray, offset: float) -> list:
        return self._timed(self.revisions, self.inner.revise, audio, offset)

    @staticmethod
    def _timed(log: list, call: Callable[..., list], audio: np.ndarray, offset: float, *rest):
        t0 = time.perf_counter()
        words = call(audio, offset, *rest)
        seconds = audio.size / 16000
        log.append((offset + seconds, time.perf_counter() - t0, seconds))
        return words


def build_input(minutes: float, folder: Path) -> Path:
    """The eval meetings end to end, repeated until ``minutes`` long."""
    meetings = [decode_file(p) for p in sorted(EVAL.glob("dev_m*.flac"))]
    target = int(minutes * 60 * 16000)
    path = folder / f"meeting_{int(minutes)}min.flac"
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        written = 0
        while written < target:
            for audio in meetings:
                piece = audio[: target - written]
                out.write(piece)
                written += piece.size
                if written >= target:
                    break
    return path


async def run(path: Path, timed: TimedRecognizer, checkpoints: list[float]) -> dict:
    process = psutil.Process()
    captioner = StreamingCaptioner(timed)
    rss: dict[float, float] = {}
    trace: list[tuple[float, float]] = []  # (session minute, RSS MB now)
    peak = 0.0
    finals = 0

    def count(event: dict) -> None:
        nonlocal finals
        finals += event.get("type") == "caption" and bool(event.get("final"))

    async def sample() -> None:
        nonlocal peak
        while True:
            now = process.memory_info().rss / 2**20
            peak = max(peak, now)
            minute = captioner.clock_sample / 16000 / 60
            trace.append((minute, now))
            for c in checkpoints:
                if minute >= c and c not in rss:
                    rss[c] = peak
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    stats = await run_pipeline(
        file_frames(path, realtime=False), captioner, [count], realtime=False
    )
    sampler.cancel()
    rss.setdefault(checkpoints[-1], peak)
    return {"stats": stats, "rss": rss, "finals": finals, "trace": trace}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    checkpoints = [m for m in (10, 30, 60) if m <= args.minutes] or [args.minutes]
    with tempfile.TemporaryDirectory() as tmp:
        path = build_input(args.minutes, Path(tmp))
        timed = TimedRecognizer(WhisperCaptioner(args.model))
        out = asyncio.run(run(path, timed, checkpoints))
    calls = np.array(timed.calls)
    revisions = np.array(timed.revisions).reshape(-1, 3)
    bounds = [0, *checkpoints]
    rows, buckets = [], []
    for lo, hi in itertools.pairwise(bounds):
        sel = calls[(calls[:, 0] >= lo * 60) & (calls[:, 0] < hi * 60)]
        if not sel.size:
            continue
        rev = revisions[(revisions[:, 0] >= lo * 60) & (revisions[:, 0] < hi * 60)]
        bucket = {
            "from_min": lo,
            "to_min": hi,
            "updates": len(sel),
            "wall_ms_per_update_mean": float(sel[:, 1].mean() * 1000),
            "wall_ms_per_update_p95": float(np.percentile(sel[:, 1], 95) * 1000),
            "window_s_mean": float(sel[:, 2].mean()),
            "window_s_max": float(sel[:, 2].max()),
            "revisions": len(rev),
            "wall_ms_per_revision_mean": float(rev[:, 1].mean() * 1000) if rev.size else None,
            "revision_block_s_max": float(rev[:, 2].max()) if rev.size else None,
            "peak_rss_mb_at_end": out["rss"].get(hi),
        }
        buckets.append(bucket)
        rows.append(
            [
                f"{lo}-{hi} min",
                bucket["updates"],
                bucket["wall_ms_per_update_mean"],
                bucket["wall_ms_per_update_p95"],
                bucket["window_s_max"],
                bucket["revisions"],
                bucket["wall_ms_per_revision_mean"],
                bucket["peak_rss_mb_at_end"],
            ]
        )
    stats = out["stats"]
    trace = np.array(out["trace"])
    late = trace[trace[:, 0] >= 10] if trace.size else trace
    slope = float(np.polyfit(late[:, 0], late[:, 1], 1)[0] * 10) if len(late) > 10 else None
    print(
        f"\n{args.minutes:.0f}-minute meeting replayed --fast: "
        f"{stats.audio_seconds:.0f} s of audio "
        f"in {stats.wall_seconds:.0f} s, CPU/audio {stats.cpu_seconds / stats.audio_seconds:.2f}, "
        f"{out['finals']} final captions\n"
    )
    print_table(
        [
            "session time",
            "updates",
            "ms/update",
            "p95 ms",
            "max window s",
            "revisions",
            "ms/revision",
            "peak RSS MB",
        ],
        rows,
    )
    if slope is not None:
        print(f"\nRSS slope after minute 10: {slope:+.1f} MB per 10 minutes of meeting")
    path = write_results(
        "long_session",
        {
            "minutes": args.minutes,
            "model": args.model,
            "audio_s": stats.audio_seconds,
            "wall_s": stats.wall_seconds,
            "cpu_over_audio": stats.cpu_seconds / stats.audio_seconds,
            "final_captions": out["finals"],
            "buckets": buckets,
            "peak_rss_mb": {str(k): v for k, v in out["rss"].items()},
            "rss_slope_mb_per_10min_after_10min": slope,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
