"""How it was said: arousal and valence per turn, against the speaker's own baseline.

No trained speech-emotion model ships offline, so tone is judged from what can be
measured honestly: loudness, pitch and speaking rate relative to the same speaker's
usual (median) voice, plus the sentiment of the words (VADER). It can tell a
raised or excited voice from that person's normal one, and calm or hesitant
speech; it cannot tell sarcasm, a quiet anger, or a voice it has heard only once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..plugins.base import AnalyzerCapabilities
from .records import Caption, EmotionFlag, Prosody, SpeakerTurn


@dataclass(frozen=True)
class ToneSettings:
    """Scales of a notable change and the flag thresholds."""

    level_db: float = 3.0  # a change this big counts as one unit
    pitch_ratio: float = 0.12
    rate_ratio: float = 0.2
    high: float = 0.65  # arousal at or above: raised voice / excited / emphatic
    low: float = 0.05  # arousal at or below: calm / hesitant
    min_seconds: float = 1.0  # shorter turns are not judged
    same_voice_pitch: float = 1.6  # beyond this pitch ratio, not the baseline's voice
    baseline_turns: int = 1  # turns of a speaker needed before their baseline is trusted


@dataclass
class _Voice:
    levels: list[float] = field(default_factory=list)
    pitches: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


class ToneTracker:
    """Emits one emotion flag per final speaker turn, once its words are final."""

    name = "tone"
    capabilities = AnalyzerCapabilities(events=("emotion",))

    def __init__(self, settings: ToneSettings | None = None) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.settings = settings or ToneSettings()
        self._sentiment = SentimentIntensityAnalyzer()
        self._voices: dict[str, _Voice] = {}
        self._meeting = _Voice()

    def judge(self, turn: SpeakerTurn, captions: list[Caption]) -> EmotionFlag | None:
        """The flag for a final turn, given the final captions that cover it."""
        prosody = turn.prosody
        seconds = turn.end - turn.start
        if prosody is None or seconds < self.settings.min_seconds:
            return None
        words = [
            w.text
            for c in captions
            for w in c.words
            if turn.start - 0.2 <= (w.start + w.end) / 2 <= turn.end + 0.2
        ]
        if not words:
            return None  # no words heard: nothing said, nothing to judge
        rate = len(words) / seconds
        arousal = self._arousal(turn.speaker, prosody, rate)
        valence = float(self._sentiment.polarity_scores(" ".join(words))["compound"])
        self._remember(turn.speaker, prosody, rate)
        return EmotionFlag(
            turn=turn.id,
            speaker=turn.speaker,
            start=turn.start,
            end=turn.end,
            label=self._label(arousal, valence),
            arousal=arousal,
            valence=valence,
        )

    def _arousal(self, speaker: str, prosody: Prosody, rate: float) -> float:
        s = self.settings
        voice = self._voices.get(speaker, _Voice())
        if len(voice.levels) >= s.baseline_turns and not self._other_voice(voice, prosody):
            level = (prosody.level_db - float(np.median(voice.levels))) / s.level_db
            pitch = 0.0
            if prosody.pitch_hz and voice.pitches:
                pitch = math.log(prosody.pitch_hz / float(np.median(voice.pitches))) / s.pitch_ratio
            speed = math.log(rate / float(np.median(voice.rates))) / s.rate_ratio
        elif len(self._meeting.levels) >= s.baseline_turns:
            # A voice new to the meeting, or one the live speaker label has mixed up
            # with someone else's: only loudness compares across people.
            level = (prosody.level_db - float(np.median(self._meeting.levels))) / s.level_db
            pitch = speed = 0.0
        else:
            return 0.5
        score = 0.5 * level + 0.3 * pitch + 0.2 * speed
        return 1.0 / (1.0 + math.exp(-(score - 1.0)))

    def _other_voice(self, voice: _Voice, prosody: Prosody) -> bool:
        """Pitch so far from the baseline that this is likely not the same voice.

        A raised voice lifts pitch by a fifth to a half; a woman's voice against a
        man's baseline (a speaker label not yet refined) differs far more.
        """
        if not prosody.pitch_hz or not voice.pitches:
            return False
        ratio = prosody.pitch_hz / float(np.median(voice.pitches))
        return abs(math.log(ratio)) > math.log(self.settings.same_voice_pitch)

    def _label(self, arousal: float, valence: float) -> str:
        if arousal >= self.settings.high:
            if valence <= -0.2:
                return "raised voice"
            return "excited" if valence >= 0.3 else "emphatic"
        if arousal <= self.settings.low:
            return "hesitant" if valence <= -0.2 else "calm"
        return "neutral"

    def _remember(self, speaker: str, prosody: Prosody, rate: float) -> None:
        for voice in (self._voices.setdefault(speaker, _Voice()), self._meeting):
            voice.levels.append(prosody.level_db)
            if prosody.pitch_hz:
                voice.pitches.append(prosody.pitch_hz)
            voice.rates.append(rate)
            for values in (voice.levels, voice.pitches, voice.rates):
                del values[:-200]  # a baseline of the recent past is enough
