"""How good and how quick captions are: WER and word latency from an event log.

Word latency follows design.md: the ``emitted`` time of the first caption event
that shows a word, minus the word's ``end``; final latency uses the final event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jiwer
import numpy as np
from whisper_normalizer.english import EnglishTextNormalizer

from .committer import word_key

_NORMALIZER = EnglishTextNormalizer()

# A partial word counts as the same word as a final one if its end is this close.
_SAME_WORD_S = 0.6


def normalize(text: str) -> str:
    """Whisper's English normaliser (numbers, spelling, punctuation)."""
    return _NORMALIZER(text)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after normalising both sides."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    if not ref.strip():
        return 0.0 if not hyp.strip() else 1.0
    return float(jiwer.wer(ref, hyp))


def final_caption_events(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last final version of every caption id, in time order."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("type") == "caption" and event.get("final"):
            latest[event["id"]] = event
    return sorted((e for e in latest.values() if e["words"]), key=lambda e: e["start"])


def first_pass(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as they were before any revision (what the live pass alone showed)."""
    return [e for e in events if not e.get("revised")]


def revision_delays(events: Iterable[dict[str, Any]]) -> list[float]:
    """Seconds from the end of each revised caption to the revision reaching the reader."""
    return [
        e["emitted"] - e["end"]
        for e in events
        if e.get("type") == "caption" and e.get("revised") and e["words"]
    ]


def final_text(events: Iterable[dict[str, Any]]) -> str:
    """What a reader is left with."""
    return " ".join(e["text"] for e in final_caption_events(events))


@dataclass(frozen=True)
class LatencyReport:
    """Word latency percentiles in seconds."""

    first_p50: float
    first_p95: float
    final_p50: float
    final_p95: float
    words: int


def word_latency(events: Sequence[dict[str, Any]]) -> LatencyReport:
    """First-display and final latency of every final word."""
    captions = [e for e in events if e.get("type") == "caption"]
    shown: dict[str, list[tuple[float, float]]] = {}  # word key -> [(end, emitted)]
    for event in sorted(captions, key=lambda e: e["emitted"]):
        for w in event["words"]:
            shown.setdefault(word_key(w["text"]), []).append((w["end"], event["emitted"]))
    # When each caption's words became final: a final sent again with the same words
    # (only its speaker label changed) does not delay them.
    settled: dict[str, tuple[str, float]] = {}
    for event in sorted(captions, key=lambda e: e["emitted"]):
        if event["final"] and settled.get(event["id"], ("",))[0] != event["text"]:
            settled[event["id"]] = (event["text"], event["emitted"])
    first, final = [], []
    for event in final_caption_events(captions):
        final_at = settled[event["id"]][1]
        for w in event["words"]:
            end = w["end"]
            seen = [
                em
                for e_end, em in shown.get(word_key(w["text"]), [])
                if abs(e_end - end) <= _SAME_WORD_S
            ]
            first.append(min([*seen, final_at]) - end)
            final.append(final_at - end)
    if not final:
        return LatencyReport(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    return LatencyReport(
        first_p50=float(np.percentile(first, 50)),
        first_p95=float(np.percentile(first, 95)),
        final_p50=float(np.percentile(final, 50)),
        final_p95=float(np.percentile(final, 95)),
        words=len(final),
    )
