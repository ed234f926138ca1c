"""A WebRTC audio source: a browser's microphone over pipecat's SmallWebRTC connection.

The browser posts an SDP offer (``POST /offer`` on the web server); the answer comes
back and the microphone track's audio (Opus, usually 48 kHz) is resampled to 16 kHz
mono frames on the session clock. One sender at a time: a second offer while one
sends is refused, and a sender that goes away ends its turn, not the session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import av
import numpy as np
from loguru import logger

from .clock import SAMPLE_RATE
from .senders import SenderTurns
from .sources import FrameCutter, PcmFrame, SenderLeft

MAX_SDP_CHARS = 20_000
FIRST_AUDIO_TIMEOUT_S = 30.0  # an offer whose audio never arrives gives its turn back
SILENT_SENDER_TIMEOUT_S = 5.0  # a sender that stops sending packets has gone away


class OfferError(ValueError):
    """An SDP offer the server cannot take; the message says why."""


def parse_offer(body: Any) -> str:
    """The SDP of a well-formed audio offer, or :class:`OfferError`."""
    if not isinstance(body, dict):
        raise OfferError('the offer must be a JSON object {"sdp": ..., "type": "offer"}')
    sdp, kind = body.get("sdp"), body.get("type")
    if kind != "offer":
        raise OfferError('"type" must be "offer"')
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise OfferError('"sdp" must be an SDP text starting with v=0')
    if len(sdp) > MAX_SDP_CHARS:
        raise OfferError(f"the SDP is longer than {MAX_SDP_CHARS} characters")
    if "\nm=audio " not in sdp.replace("\r\n", "\n"):
        raise OfferError("the offer has no audio track")
    return sdp


def offer_loopback_candidates() -> None:
    """Let the server's ICE offer 127.0.0.1 too (aioice leaves it out).

    A server bound to loopback talks to a browser on the same machine; on a machine
    whose only shared interface is loopback, no other candidate pair can connect.
    """
    import aioice.ice

    gather = aioice.ice.get_host_addresses
    if getattr(gather, "roomtone_loopback", False):
        return

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = gather(use_ipv4, use_ipv6)
        return [*addresses, "127.0.0.1"] if use_ipv4 else addresses

    with_loopback.roomtone_loopback = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = with_loopback


class WebRTCAudioSource:
    """Answers browsers' offers and yields the frames of whoever is sending."""

    def __init__(self, start_sample: int = 0) -> None:
        self._frames: asyncio.Queue[PcmFrame | SenderLeft | None] = asyncio.Queue(maxsize=2000)
        self._turns = SenderTurns(start_sample)
        self._tasks: set[asyncio.Task[None]] = set()
        self.errors: list[str] = []

    @property
    def sending(self) -> bool:
        """Whether a browser holds the microphone turn now."""
        return self._turns.busy

    async def frames(
        self, ready: asyncio.Event | None = None
    ) -> AsyncIterator[PcmFrame | SenderLeft]:
        """Frames until :meth:`close`."""
        if ready is not None:
            ready.set()
        while (frame := await self._frames.get()) is not None:
            yield frame

    async def close(self) -> None:
        """End the stream of frames and hang up on the sender."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._frames.put(None)

    async def accept_offer(self, body: Any) -> dict[str, str]:
        """Answer an offer; :class:`OfferError` or ``SenderBusyError`` if it cannot be taken."""
        from pipecat.transports.smallwebrtc.connection import SmallWebRTCConnection

        sdp = parse_offer(body)
        turn = object()
        cutter = self._turns.begin(turn)  # SenderBusyError while someone sends
        connection = SmallWebRTCConnection(ice_servers=[])
        try:
            await connection.initialize(sdp=sdp, type="offer")
            answer = connection.get_answer()
            track = connection.audio_input_track()
            if answer is None or track is None:
                raise OfferError("the offer could not be answered with an audio receiver")
        except Exception as exc:
            self._turns.end(turn, cutter)
            await connection.disconnect()
            if isinstance(exc, OfferError):
                raise
            raise OfferError(f"the SDP offer could not be read: {exc}") from exc
        await connection.connect()
        task = asyncio.create_task(self._receive(connection, track, turn, cutter))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"sdp": answer["sdp"], "type": answer["type"]}

    async def _receive(
        self, connection: Any, track: Any, turn: object, cutter: FrameCutter
    ) -> None:
        from aiortc.mediastreams import MediaStreamError

        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        timeout = FIRST_AUDIO_TIMEOUT_S
        try:
            while True:
                frame = await asyncio.wait_for(track.recv(), timeout)
                timeout = SILENT_SENDER_TIMEOUT_S
                frame.pts = None  # the resampler keeps its own time; RTP gaps are not ours
                pieces = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
                if pieces:
                    for out in cutter.feed(np.concatenate(pieces).astype(np.int16, copy=False)):
                        await self._frames.put(out)
        except (TimeoutError, MediaStreamError):
            logger.info("a WebRTC sender went away; the session goes on")
        finally:
            for out in self._turns.leaving(cutter):
                with contextlib.suppress(asyncio.QueueFull):
                    self._frames.put_nowait(out)
            self._turns.end(turn, cutter)
            with contextlib.suppress(Exception):
                await connection.disconnect()
