"""What else happens in the room: non-speech sounds from YAMNet, captioned like "[music]".

YAMNet scores 0.96 s patches every 0.48 s. Its 521 AudioSet classes are grouped
into a short caption vocabulary; a group is heard in a patch when its best class
logit clears ``threshold`` and beats every speech class (so talk is never captioned
as a sound). A sound is announced once it is heard in 2 of the last 3 patches and
closed after 2 patches without it: one caption per occurrence, not one per patch.
Steady background noise has no reliable YAMNet class at meeting levels, so it is
judged from level: the quietest frames of a patch (the gaps between syllables)
staying above ``noise_floor_db`` for 3 s.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ..plugins.base import AnalyzerCapabilities
from ..plugins.yamnet import PATCH_FRAMES, Yamnet, log_mel
from .clock import SAMPLE_RATE
from .records import SoundEvent

HOP_SAMPLES = 7680  # 0.48 s, half a patch
PATCH_SAMPLES_CONTEXT = 15_712  # one YAMNet patch of audio

# Caption vocabulary: label -> (what a reader sees, AudioSet classes).
# The freedesktop desk bell is heard by YAMNet as "Plop"/"Ding": short struck tones
# are grouped with bells.
VOCABULARY: dict[str, tuple[str, tuple[str, ...]]] = {
    "telephone": (
        "[phone ringing]",
        ("Telephone", "Telephone bell ringing", "Ringtone", "Telephone dialing, DTMF"),
    ),
    "bell": (
        "[bell]",
        (
            "Bell",
            "Church bell",
            "Jingle bell",
            "Bicycle bell",
            "Doorbell",
            "Ding-dong",
            "Ding",
            "Chime",
            "Wind chime",
            "Tuning fork",
            "Plop",
            "Change ringing (campanology)",
        ),
    ),
    "alarm": (
        "[alarm]",
        ("Alarm", "Alarm clock", "Siren", "Smoke detector, smoke alarm", "Buzzer", "Fire alarm"),
    ),
    "music": ("[music]", ("Music", "Musical instrument", "Piano", "Singing")),
    "applause": ("[applause]", ("Applause", "Clapping", "Cheering")),
    "laughter": ("[laughter]", ("Laughter", "Giggle", "Chuckle, chortle", "Belly laugh")),
    "knock": ("[knocking]", ("Knock", "Door")),
    "dog": ("[dog barking]", ("Dog", "Bark")),
    "cough": ("[coughing]", ("Cough", "Throat clearing", "Sneeze")),
    "typing": ("[typing]", ("Typing", "Computer keyboard")),
}
NOISE = ("noise", "[background noise]")
SPEECH_CLASSES = ("Speech", "Conversation", "Narration, monologue", "Speech synthesizer")


@dataclass(frozen=True)
class SoundSettings:
    """Decision thresholds."""

    threshold: float = 1.0  # YAMNet logit a group's best class must reach
    confirm: int = 2  # patches (of the last 3) that must hear a sound to announce it
    release: int = 2  # patches without it that close it
    noise_floor_db: float = -50.0  # quiet frames louder than this: a noisy room
    noise_seconds: float = 3.0


@dataclass
class _Open:
    id: str
    label: str
    start: float
    end: float
    confidence: float
    announced: bool = False
    misses: int = 0


class SoundDetector:
    """Streams audio through YAMNet and emits one sound event per occurrence."""

    name = "sounds"
    capabilities = AnalyzerCapabilities(events=("sound",))

    def __init__(self, model: Yamnet | None = None, settings: SoundSettings | None = None) -> None:
        self._model = model or Yamnet()
        self.settings = settings or SoundSettings()
        index = {name: i for i, name in enumerate(self._model.classes)}
        self._groups = {
            label: np.array([index[c] for c in classes if c in index])
            for label, (_, classes) in VOCABULARY.items()
        }
        self._speech = np.array([index[c] for c in SPEECH_CLASSES if c in index])
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # session sample of the buffer's first sample
        self._history: dict[str, deque[bool]] = {g: deque(maxlen=3) for g in self._groups}
        self._open: dict[str, _Open] = {}
        self._count = 0
        self._noisy_since: float | None = None
        self._noise: _Open | None = None
        self._energies: deque[float] = deque(maxlen=1000)  # 10 s of 10 ms frame energies

    def feed(self, samples: np.ndarray, start_sample: int) -> list[SoundEvent]:
        """Sound events decided by this audio."""
        out: list[SoundEvent] = []
        if start_sample != self._buffer_start + self._buffer.size:  # a gap: start over
            out += self.finish()
            self._buffer, self._buffer_start = np.zeros(0, np.float32), start_sample
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        while self._buffer.size >= PATCH_SAMPLES_CONTEXT:
            patch = self._buffer[:PATCH_SAMPLES_CONTEXT]
            out += self._patch(patch, self._buffer_start / SAMPLE_RATE)
            self._buffer = self._buffer[HOP_SAMPLES:]
            self._buffer_start += HOP_SAMPLES
        return out

    def finish(self) -> list[SoundEvent]:
        """Close every sound still going on."""
        out = [self._closed(o) for o in self._open.values() if o.announced]
        self._open.clear()
        if self._noise is not None and self._noise.announced:
            out.append(self._closed(self._noise))
        self._noise, self._noisy_since = None, None
        self._energies.clear()
        for history in self._history.values():
            history.clear()
        return out

    def _patch(self, audio: np.ndarray, start: float) -> list[SoundEvent]:
        mel = log_mel(audio)[:PATCH_FRAMES]
        scores = self._model.scores(mel[None])[0]
        speech = float(scores[self._speech].max())
        end = start + PATCH_SAMPLES_CONTEXT / SAMPLE_RATE
        group_scores = {label: float(scores[c].max()) for label, c in self._groups.items()}
        # One sound per patch: a phone ring also scores "Alarm", but lower.
        loudest = max(group_scores, key=group_scores.__getitem__)
        out: list[SoundEvent] = []
        for label, best in group_scores.items():
            heard = label == loudest and best >= self.settings.threshold and best > speech
            history = self._history[label]
            history.append(heard)
            out += self._track(label, heard, sum(history), best, start, end)
        out += self._track_noise(audio[-HOP_SAMPLES:], start, end)
        return out

    def _track(
        self, label: str, heard: bool, recent: int, score: float, start: float, end: float
    ) -> list[SoundEvent]:
        current = self._open.get(label)
        if heard:
            if current is None:
                self._count += 1
                current = self._open[label] = _Open(f"s{self._count}", label, start, end, 0.0)
            current.end, current.misses = end, 0
            current.confidence = max(current.confidence, _probability(score))
            if not current.announced and recent >= self.settings.confirm:
                current.announced = True
                return [self._event(current, final=False)]
            return []
        if current is None:
            return []
        current.misses += 1
        if current.misses < self.settings.release and current.announced:
            return []
        del self._open[label]
        return [self._closed(current)] if current.announced else []

    def _track_noise(self, newest: np.ndarray, start: float, end: float) -> list[SoundEvent]:
        """Noise floor: the quietest 5% of 10 ms frames over the last 10 s.

        Ten seconds of a meeting nearly always hold a pause between turns, so in a
        quiet room the floor is the silence there, while steady noise fills it.
        """
        frames = newest[: newest.size - newest.size % 160].reshape(-1, 160)
        self._energies.extend(np.mean(frames.astype(np.float64) ** 2, axis=1))
        floor_db = 10 * np.log10(float(np.percentile(self._energies, 5)) + 1e-12)
        if floor_db >= self.settings.noise_floor_db:
            if self._noisy_since is None:
                self._noisy_since = start
            if self._noise is None:
                self._count += 1
                self._noise = _Open(f"s{self._count}", NOISE[0], self._noisy_since, end, 0.0)
            self._noise.end = end
            self._noise.confidence = min(1.0, (floor_db - self.settings.noise_floor_db) / 20 + 0.5)
            if not self._noise.announced and end - self._noise.start >= self.settings.noise_seconds:
                self._noise.announced = True
                return [self._event(self._noise, final=False)]
            return []
        self._noisy_since = None
        noise, self._noise = self._noise, None
        return [self._closed(noise)] if noise is not None and noise.announced else []

    def _closed(self, sound: _Open) -> SoundEvent:
        return self._event(sound, final=True)

    @staticmethod
    def _event(sound: _Open, *, final: bool) -> SoundEvent:
        caption = NOISE[1] if sound.label == NOISE[0] else VOCABULARY[sound.label][0]
        return SoundEvent(
            id=sound.id,
            label=sound.label,
            caption=caption,
            start=sound.start,
            end=sound.end,
            confidence=sound.confidence,
            final=final,
        )


def _probability(logit: float) -> float:
    return float(1.0 / (1.0 + np.exp(-logit)))
