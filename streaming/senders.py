"""One audio sender at a time on one session clock, for sources that people connect to."""

from __future__ import annotations

import time

from .clock import SAMPLE_RATE
from .sources import FrameCutter, PcmFrame, SenderLeft


class SenderBusyError(RuntimeError):
    """Another client is already sending audio into this session."""


class SenderTurns:
    """Hands out turns to send audio: one sender at a time, all on the same clock.

    A sender that goes away ends its turn, not the session. The next one resumes at
    its true wall-clock time, so later audio stays where it happened and the gap shows.
    """

    def __init__(self, start_sample: int = 0) -> None:
        self._t0: float | None = None
        self._start = start_sample  # where the session clock stands when the first sender comes
        self._next_sample = start_sample
        self._holder: object | None = None

    @property
    def busy(self) -> bool:
        """Whether someone is sending now."""
        return self._holder is not None

    def begin(self, holder: object) -> FrameCutter:
        """Start ``holder``'s turn; :class:`SenderBusyError` while another one sends."""
        if self._holder is not None:
            raise SenderBusyError("another client is already sending audio")
        self._holder = holder
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        gap_sample = self._start + int((now - self._t0) * SAMPLE_RATE)
        return FrameCutter(max(self._next_sample, gap_sample))

    @staticmethod
    def leaving(cutter: FrameCutter) -> list[PcmFrame | SenderLeft]:
        """What a sender that stops still passes on: its last, shorter frame and its end."""
        return [*cutter.flush(), SenderLeft(cutter.next_sample)]

    def end(self, holder: object, cutter: FrameCutter) -> None:
        """End ``holder``'s turn; pass on :meth:`leaving` first."""
        if self._holder is holder:
            self._next_sample = cutter.next_sample
            self._holder = None
