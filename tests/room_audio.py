"""Audio for the speaker, sound and tone tests: cuts of the eval meetings and plain signals."""

from __future__ import annotations

import numpy as np

from roomtone.streaming.records import Record

RATE = 16_000


def stream(engine, audio: np.ndarray, start_sample: int = 0) -> list[Record]:
    """Feed ``audio`` in 20 ms frames, as the pipeline does; the latest record per id."""
    latest: dict[str, Record] = {}
    for i in range(0, audio.size, 320):
        for record in engine.feed(audio[i : i + 320], start_sample + i):
            latest[record.id] = record
    for record in engine.finish():
        latest[record.id] = record
    return list(latest.values())


def pink_noise(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    """Pink (1/f) noise at an RMS level in dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
    noise = np.fft.irfft(spectrum, n)
    return (noise / np.sqrt(np.mean(noise**2)) * 10 ** (level_db / 20)).astype(np.float32)


def turns_of(audio: np.ndarray, truth: dict, speaker: str) -> np.ndarray:
    """One speaker's turns joined with 0.5 s pauses: a monologue in their voice."""
    pause = np.zeros(RATE // 2, np.float32)
    pieces = []
    for turn in truth["turns"]:
        if turn["speaker"] == speaker:
            pieces += [audio[int(turn["start"] * RATE) : int(turn["end"] * RATE)], pause]
    return np.concatenate(pieces)


def speaker_accuracy(truth: dict, turns: list) -> float:
    """Share of single-speaker reference speech (10 ms frames) given the right label,
    under the best one-to-one mapping of predicted labels to true speakers."""
    from scipy.optimize import linear_sum_assignment

    frames = int(truth["duration"] * 100) + 1
    ref = np.full(frames, -1)
    names = sorted({t["speaker"] for t in truth["turns"]})
    for t in truth["turns"]:
        span = slice(int(t["start"] * 100), int(t["end"] * 100))
        ref[span] = np.where(ref[span] == -1, names.index(t["speaker"]), -2)  # -2: overlap
    labels = sorted({t.speaker for t in turns})
    hyp = np.full(frames, -1)
    for t in turns:
        hyp[int(t.start * 100) : int(t.end * 100)] = labels.index(t.speaker)
    scored = ref >= 0
    counts = np.zeros((len(names), max(1, len(labels))))
    for r, h in zip(ref[scored], hyp[scored], strict=True):
        if h >= 0:
            counts[r, h] += 1
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / scored.sum())
