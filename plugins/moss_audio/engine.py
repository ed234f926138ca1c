"""The audio-LLM as a roomtone engine: captions, speakers, tone and sounds from one model.

Each completed 4 s chunk is appended to the session prefix (encoded once), then one
short prompt over the prefix asks what that chunk held, in a line format:

    S1 (calm): so the launch moves to Friday
    [phone ringing]

The reply becomes the same records the CPU tier emits (captions with words,
speaker turns, emotion flags, sound events). MOSS-Audio gives no word times: a
caption's words are spread over its chunk by their length, so word timestamps are
good to the chunk (4 s), not to the word. Captions arrive once per chunk, 4 s after
its start at the earliest; there are no partial captions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ...streaming.records import Caption, EmotionFlag, Record, SoundEvent, SpeakerTurn, Word
from ..base import AnalyzerCapabilities
from .session import AudioSession

CHUNK_SECONDS = 4.0
PROMPT = (
    "For the audio from second {start} to second {end} only, write one line per "
    "speaker turn as `S<number> (<tone>): <exact words>` with tone one of calm, "
    "neutral, excited, emphatic, hesitant, raised voice; and one line `[<sound>]` for "
    "each non-speech sound (a phone ringing, music, a door). Write `-` if nothing was heard."
)
TONES = {  # label -> (arousal, valence), as the CPU tier scales them
    "calm": (0.1, 0.2),
    "neutral": (0.4, 0.0),
    "excited": (0.8, 0.6),
    "emphatic": (0.75, 0.0),
    "hesitant": (0.15, -0.3),
    "raised voice": (0.85, -0.5),
}
_TURN = re.compile(r"^\s*(S\d{1,2})\s*(?:\(([a-z ]+)\))?\s*:\s*(.+)$", re.IGNORECASE)
_SOUND = re.compile(r"\[([^\[\]]{2,40})\]")


@dataclass(frozen=True)
class ChunkReport:
    """What the model said one chunk held."""

    turns: list[tuple[str, str | None, str]]  # (speaker, tone, words)
    sounds: list[str]


def parse_report(reply: str) -> ChunkReport:
    """Read the line format; anything else in the reply is ignored."""
    turns, sounds = [], []
    for line in reply.splitlines():
        if match := _TURN.match(line):
            tone = (match.group(2) or "").strip().lower() or None
            words = match.group(3).strip()
            if words and words != "-":
                turns.append((match.group(1).upper(), tone if tone in TONES else None, words))
        else:
            sounds += [s.strip().lower() for s in _SOUND.findall(line)]
    return ChunkReport(turns, sounds)


def spread_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Words over ``start..end`` in proportion to their length (no word times given)."""
    words = text.split()
    if not words:
        return ()
    weights = np.array([len(w) + 1 for w in words], dtype=float)
    edges = start + (end - start) * np.concatenate([[0], np.cumsum(weights)]) / weights.sum()
    return tuple(
        Word(w, float(a), float(b)) for w, a, b in zip(words, edges, edges[1:], strict=False)
    )


class MossAudioEngine:
    """Listens beside the pipeline; every chunk becomes captions, turns, flags and sounds."""

    name = "moss-audio"
    capabilities = AnalyzerCapabilities(events=("caption", "speaker", "emotion", "sound"))

    def __init__(self, session: AudioSession, max_new_tokens: int = 96) -> None:
        self.session = session
        self.max_new_tokens = max_new_tokens
        self.last_reply = ""

    def feed(self, samples: np.ndarray, start_sample: int) -> list[Record]:
        """Records for the chunks this audio completed."""
        records: list[Record] = []
        for chunk in self.session.feed(samples, start_sample):
            start = chunk.index * CHUNK_SECONDS
            records += self._describe(f"{chunk.index}", start, start + CHUNK_SECONDS, tail=False)
        return records

    def finish(self) -> list[Record]:
        """The incomplete last chunk, described once at the end of input."""
        tail = self.session.encoder.tail()
        if tail is None:
            return []
        start = tail[0] * CHUNK_SECONDS
        end = self.session.encoder.next_sample / 16000
        return self._describe(f"{tail[0]}", start, end, tail=True)

    def _describe(self, key: str, start: float, end: float, tail: bool) -> list[Record]:
        prompt = PROMPT.format(start=int(start), end=round(end))
        reply = self.session.prompt(prompt, self.max_new_tokens, with_tail=tail)
        self.last_reply = reply
        report = parse_report(reply)
        self.session.remember(start, end, " ".join(words for _, _, words in report.turns))
        return records_for(report, key, start, end)


def records_for(report: ChunkReport, key: str, start: float, end: float) -> list[Record]:
    """The records a chunk's report makes: turns, their captions and flags, sounds."""
    records: list[Record] = []
    share = (end - start) / max(1, len(report.turns))
    for n, (speaker, tone, words) in enumerate(report.turns):
        a, b = start + n * share, start + (n + 1) * share
        turn_id = f"m{key}.{n}"
        records.append(SpeakerTurn(turn_id, speaker, a, b, final=True))
        records.append(Caption(turn_id, True, spread_words(words, a, b), speaker=speaker))
        if tone is not None:
            arousal, valence = TONES[tone]
            records.append(EmotionFlag(turn_id, speaker, a, b, tone, arousal, valence))
    for n, label in enumerate(dict.fromkeys(report.sounds)):
        records.append(SoundEvent(f"m{key}.s{n}", label, f"[{label}]", start, end, 1.0, True))
    return records
