"""One replay of an audio file through the whole pipeline, for every benchmark."""

from __future__ import annotations

import asyncio
from pathlib import Path

from roomtone.plugins.whisper_captioner import WhisperCaptioner
from roomtone.streaming.captioning import StreamingCaptioner
from roomtone.streaming.pipeline import RunStats, run_pipeline
from roomtone.streaming.room_engines import EngineChoice, build_engines
from roomtone.streaming.sources import file_frames


def replay(
    recognizer: WhisperCaptioner, audio: Path, *, realtime: bool, engines: bool = False
) -> tuple[list[dict], RunStats]:
    """Replay ``audio`` (paced at 1x or as fast as it goes); the events and run stats.

    With ``engines``, speakers, sounds and tone run beside the captions.
    """
    events: list[dict] = []
    analyzers, annotator = build_engines(EngineChoice(engines, engines, engines))
    stats = asyncio.run(
        run_pipeline(
            file_frames(audio, realtime=realtime),
            StreamingCaptioner(recognizer),
            [events.append],
            realtime=realtime,
            analyzers=analyzers,
            annotator=annotator,
        )
    )
    return events, stats
