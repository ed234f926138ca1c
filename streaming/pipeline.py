"""The live pipeline on pipecat: source frames -> Silero VAD -> caption engine -> events.

Audio enters as :class:`SessionAudioFrame` (pipecat's input audio frame plus its
sample index on the session clock). pipecat's ``VADProcessor`` marks speech; the
:class:`CaptionEngineProcessor` drives a :class:`StreamingCaptioner` off the event
loop; the :class:`EventSink` hands every event to the session's listeners.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from loguru import logger
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import (
    DataFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from ..plugins.base import AudioAnalyzer, WindowRecognizer
from .annotate import Annotator
from .captioning import RevisionJob, StreamingCaptioner, revised_captions
from .clock import SAMPLE_RATE, to_seconds
from .native_memory import release_free_memory
from .records import Caption, Notice, Record, Word
from .sources import AudioInputError, PcmFrame, SenderLeft

EventListener = Callable[[dict[str, Any]], Awaitable[None] | None]

# How much audio may be queued ahead of the caption engine (backpressure for --fast).
_IN_FLIGHT_FRAMES = 50


@dataclass
class SessionAudioFrame(InputAudioRawFrame):
    """Input audio with its first sample's index on the session clock."""

    start_sample: int = 0


@dataclass
class SenderLeftFrame(DataFrame):
    """The live sender stopped; what the engines had open is finished (in order with audio)."""


@dataclass
class RecordFrame(DataFrame):
    """A caption, speaker turn, sound or notice leaving an engine."""

    record: Record | None = None


class EmissionClock:
    """When events leave the pipeline, on the session clock.

    Live: wall-clock seconds since the first sample was fed. Fast replay: the audio
    time the engine had reached, which is what a live run would show with no
    compute delay.
    """

    def __init__(self, realtime: bool) -> None:
        self.realtime = realtime
        self._t0: float | None = None
        self._origin = 0.0

    def first_sample_fed(self, at_sample: int) -> None:
        """Start counting (once) when the first frame enters the pipeline."""
        if self._t0 is None:
            self._t0 = time.monotonic()
            self._origin = to_seconds(at_sample)

    def now(self, audio_sample: int) -> float:
        """Emission time for an event produced when the engine reached ``audio_sample``."""
        if self.realtime and self._t0 is not None:
            return self._origin + time.monotonic() - self._t0
        return to_seconds(audio_sample)


def silero_vad(stop_secs: float = 0.4) -> VADProcessor:
    """Pipecat's Silero VAD, tuned for captions (quick ends, no level gate, no wall clock)."""
    params = VADParams(confidence=0.7, start_secs=0.2, stop_secs=stop_secs, min_volume=0.0)
    return VADProcessor(
        vad_analyzer=SileroVADAnalyzer(sample_rate=SAMPLE_RATE, params=params),
        audio_idle_timeout=0,  # the wall-clock idle check would make replays differ
    )


class CaptionEngineProcessor(FrameProcessor):
    """Feeds audio and VAD edges to a streaming captioner; pushes caption frames."""

    def __init__(
        self,
        captioner: StreamingCaptioner,
        clock: EmissionClock,
        credit: asyncio.Semaphore,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._captioner = captioner
        self._clock = clock
        self._credit = credit
        # Recognition always runs on one thread of its own: the model is not made for
        # concurrent calls, and native allocations spread over many pool threads
        # fragment into per-thread malloc arenas that grow for hours.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="captioner")
        # Revisions (long-window second passes) run beside it, on the other core.
        self._reviser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviser")
        self._revising: set[asyncio.Task[None]] = set()
        self._vad_speaking = False  # the VAD's state: it hears no pause while nothing is sent
        self._reopen = False  # audio closed mid-speech: speech goes on when audio comes back

    async def cleanup(self) -> None:
        """Stop the recognition threads."""
        await super().cleanup()
        for task in self._revising:
            task.cancel()
        self._executor.shutdown(wait=False)
        self._reviser.shutdown(wait=False)

    async def _off_loop(self, work: Callable[[], list[Caption]]) -> list[Caption]:
        captions = await asyncio.get_running_loop().run_in_executor(
            self._executor, _then_trim, work
        )
        for job in self._captioner.pop_revisions():
            task = asyncio.create_task(self._revise(job))
            self._revising.add(task)
            task.add_done_callback(self._revising.discard)
        return captions

    async def _revise(self, job: RevisionJob) -> None:
        recognizer = self._captioner.recognizer
        loop = asyncio.get_running_loop()
        try:
            words = await loop.run_in_executor(self._reviser, _revise_then_trim, recognizer, job)
        except Exception as exc:  # the first-pass captions stand; say so and go on
            logger.warning(f"caption revision failed at {job.offset:.1f}s: {exc}")
            return
        await self._push_captions(revised_captions(job, words))

    async def _drain_revisions(self) -> None:
        while self._revising:
            await asyncio.gather(*self._revising)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Handle audio, VAD edges and the end of input."""
        await super().process_frame(frame, direction)
        if isinstance(frame, SessionAudioFrame):
            try:
                await self._on_audio(frame)
            finally:
                self._credit.release()
            return
        if isinstance(frame, VADUserStartedSpeakingFrame):
            self._vad_speaking, self._reopen = True, False
            self._captioner.speech_started()
        elif isinstance(frame, VADUserStoppedSpeakingFrame):
            self._vad_speaking, self._reopen = False, False
            await self._push_captions(await self._off_loop(self._captioner.speech_stopped))
        elif isinstance(frame, SenderLeftFrame):
            # Nothing more comes until someone sends again: what was said is final now,
            # not a partial left on readers' screens.
            await self._close_open()
        elif isinstance(frame, EndFrame):
            await self._close_open()
            await self._drain_revisions()
        await self.push_frame(frame, direction)

    async def _close_open(self) -> None:
        """Finish the open captions; speech the VAD still hears resumes with the audio."""
        await self._push_captions(await self._off_loop(self._captioner.finish))
        self._reopen = self._vad_speaking

    async def _on_audio(self, frame: SessionAudioFrame) -> None:
        if frame.start_sample > self._captioner.clock_sample:
            # A gap in the input (a sender reconnected later): close what was open.
            await self._close_open()
            self._captioner.start_at(frame.start_sample)
        if self._reopen:  # the VAD gives no new start for speech it never heard end
            self._reopen = False
            self._captioner.speech_started()
        samples = np.frombuffer(frame.audio, dtype=np.int16).astype(np.float32) / 32768.0
        if self._captioner.append(samples):  # cheap; only recognition leaves the loop
            await self._push_captions(await self._off_loop(self._captioner.update))

    async def _push_captions(self, captions: list[Caption]) -> None:
        emitted = self._clock.now(self._captioner.clock_sample)
        for caption in captions:
            await self.push_frame(RecordFrame(record=replace(caption, emitted=emitted)))


def _revise_then_trim(recognizer: WindowRecognizer, job: RevisionJob) -> list[Word]:
    """The second pass, then give the pages it freed back to the system."""
    return _then_trim(lambda: recognizer.revise(job.audio, job.offset))


def _then_trim(work: Callable[[], list[Any]]) -> list[Any]:
    """Run recognition work, then give the pages it freed back to the system."""
    try:
        return work()
    finally:
        release_free_memory()


class AnalyzerProcessor(FrameProcessor):
    """Runs an audio analyser (speakers, sounds) beside the captioner, on its own thread.

    Audio frames pass straight on, so the analyser never delays captions; it gets
    the same audio through a queue and pushes its records when they are ready. At
    the end of input it finishes before the end is passed on.
    """

    def __init__(self, analyzer: AudioAnalyzer, clock: EmissionClock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._analyzer = analyzer
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=analyzer.name)
        self._queue: asyncio.Queue[SessionAudioFrame | None] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._reached = 0

    async def cleanup(self) -> None:
        """Stop the analyser's thread."""
        await super().cleanup()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._executor.shutdown(wait=False)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Queue audio for the analyser; at the end, drain it first."""
        await super().process_frame(frame, direction)
        if isinstance(frame, SessionAudioFrame):
            if self._worker is None:
                self._worker = asyncio.create_task(self._work())
            self._queue.put_nowait(frame)
        elif isinstance(frame, EndFrame) and self._worker is not None:
            self._queue.put_nowait(None)
            await self._worker
        await self.push_frame(frame, direction)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            frame = await self._queue.get()
            try:
                if frame is None:
                    records = await loop.run_in_executor(self._executor, self._analyzer.finish)
                else:
                    samples = np.frombuffer(frame.audio, dtype=np.int16).astype(np.float32)
                    samples /= 32768.0
                    self._reached = frame.start_sample + samples.size
                    records = await loop.run_in_executor(
                        self._executor, self._analyzer.feed, samples, frame.start_sample
                    )
            except Exception as exc:  # an engine failing must not stop the captions
                logger.warning(f"{self._analyzer.name} engine failed: {exc}")
                records = []
            emitted = self._clock.now(self._reached)
            for record in records:
                await self.push_frame(RecordFrame(record=replace(record, emitted=emitted)))
            if frame is None:
                return


class EventSink(FrameProcessor):
    """The end of the pipeline: records are annotated and become events for the listeners."""

    def __init__(
        self,
        listeners: list[EventListener],
        annotator: Annotator | None = None,
        id_prefix: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._listeners = listeners
        self._annotator = annotator or Annotator()
        self._prefix = id_prefix

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        """Publish records; pass everything on."""
        await super().process_frame(frame, direction)
        if isinstance(frame, RecordFrame) and frame.record is not None:
            for record in self._annotator.on_record(frame.record):
                await publish(self._listeners, tag_ids(record.to_event(), self._prefix))
        elif isinstance(frame, EndFrame):
            for record in self._annotator.finish():
                await publish(self._listeners, tag_ids(record.to_event(), self._prefix))
        await self.push_frame(frame, direction)


def tag_ids(event: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Event ids of a resumed run, kept apart from the earlier runs' ("r2-c1")."""
    if not prefix:
        return event
    for key in ("id", "turn"):
        if key in event:
            event[key] = f"{prefix}{event[key]}"
    return event


async def publish(listeners: list[EventListener], event: dict[str, Any]) -> None:
    """Hand one event to every listener, in order."""
    for listener in listeners:
        result = listener(event)
        if asyncio.iscoroutine(result):
            await result


@dataclass
class RunStats:
    """What one run of the pipeline did."""

    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    updates: int = 0
    error: str | None = None
    notices: list[Notice] = field(default_factory=list)


async def run_pipeline(
    frames: AsyncIterator[PcmFrame | SenderLeft],
    captioner: StreamingCaptioner,
    listeners: list[EventListener],
    *,
    realtime: bool,
    analyzers: Sequence[AudioAnalyzer] = (),
    annotator: Annotator | None = None,
    vad_stop_secs: float = 0.4,
    id_prefix: str = "",
) -> RunStats:
    """Run frames through VAD and captioning until the source ends.

    A source that fails part-way (a damaged file) ends the run cleanly: everything
    heard before the damage is captioned and published, then a notice says why the
    audio stopped, and :attr:`RunStats.error` carries the message. ``id_prefix`` marks
    the ids of a run that resumes a session, so they never replace the earlier ones.
    """
    clock = EmissionClock(realtime)
    credit = asyncio.Semaphore(_IN_FLIGHT_FRAMES)
    pipeline = Pipeline(
        [
            silero_vad(vad_stop_secs),
            *(AnalyzerProcessor(analyzer, clock) for analyzer in analyzers),
            CaptionEngineProcessor(captioner, clock, credit),
            EventSink(listeners, annotator, id_prefix),
        ]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE),
        idle_timeout_secs=None,  # a listen-only pipeline is never "idle"; meetings run for hours
        cancel_on_idle_timeout=False,
        enable_rtvi=False,
        enable_turn_tracking=False,
        check_dangling_tasks=False,
    )
    runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
    await runner.add_workers(worker)
    stats = RunStats()
    wall0, cpu0 = time.monotonic(), time.process_time()
    end_sample = captioner.clock_sample

    async def feed() -> None:
        nonlocal end_sample
        try:
            async for frame in frames:
                if isinstance(frame, SenderLeft):
                    await worker.queue_frame(SenderLeftFrame())
                    continue
                await credit.acquire()
                clock.first_sample_fed(frame.start_sample)
                end_sample = frame.start_sample + frame.pcm.size
                await worker.queue_frame(
                    SessionAudioFrame(
                        audio=frame.pcm.tobytes(),
                        sample_rate=SAMPLE_RATE,
                        num_channels=1,
                        start_sample=frame.start_sample,
                    )
                )
        except AudioInputError as exc:
            stats.error = str(exc)
            logger.warning(f"audio input stopped: {exc}")
        finally:
            await worker.queue_frame(EndFrame())

    feeder = asyncio.create_task(feed())
    try:
        await runner.run()
    finally:
        if not feeder.done():
            feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
    stats.audio_seconds = to_seconds(end_sample)
    stats.wall_seconds = time.monotonic() - wall0
    stats.cpu_seconds = time.process_time() - cpu0
    stats.updates = captioner.updates
    if stats.error:
        notice = Notice("error", stats.error, at=stats.audio_seconds, emitted=clock.now(end_sample))
        stats.notices.append(notice)
        await publish(listeners, notice.to_event())
    return stats
