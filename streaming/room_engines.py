"""The engines beside the captioner: who is speaking, how it sounds, what else is heard."""

from __future__ import annotations

from dataclasses import dataclass

from ..plugins.base import AudioAnalyzer
from .annotate import Annotator


@dataclass(frozen=True)
class EngineChoice:
    """Which engines run (all by default)."""

    speakers: bool = True
    sounds: bool = True
    tone: bool = True


def build_engines(choice: EngineChoice) -> tuple[list[AudioAnalyzer], Annotator]:
    """The analysers to run beside the captioner and the annotator that joins them.

    Raises :class:`~roomtone.plugins.model_files.ModelNotFoundError` (with the fix)
    when a chosen engine's model is not installed.
    """
    analyzers: list[AudioAnalyzer] = []
    if choice.speakers:
        from .speakers import OnlineDiarizer

        analyzers.append(OnlineDiarizer())
    if choice.sounds:
        from .sounds import SoundDetector

        analyzers.append(SoundDetector())
    tone = None
    if choice.tone and choice.speakers:  # tone is judged per speaker turn
        from .tone import ToneTracker

        tone = ToneTracker()
    return analyzers, Annotator(tone)
