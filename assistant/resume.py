"""Resuming a session after roomtone stopped (a crash, `kill -9`, a closed laptop).

Every event was committed to SQLite as it happened, so the session holds all it had.
A resumed capture continues the same session clock: it starts where the wall clock
says the meeting now is (never before what the session already holds), its event ids
are kept apart from the earlier runs' ("r2-c1"), and a notice says where the gap is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..streaming.clock import SAMPLE_RATE, format_clock
from .store import SessionStore

RESUME_MARGIN_S = 1.0  # resumed audio starts at least this far after the last event


@dataclass(frozen=True)
class ResumePoint:
    """Where and how a session's capture goes on."""

    session_id: int
    stopped_at: float  # the last moment the session holds, in session seconds
    start: float  # where the resumed capture begins on the session clock
    run: int  # 2 for the first resume, 3 for the next, ...

    @property
    def id_prefix(self) -> str:
        """Prefix of this run's event ids."""
        return f"r{self.run}-"

    @property
    def start_sample(self) -> int:
        """The first sample of the resumed capture on the session clock."""
        return round(self.start * SAMPLE_RATE)

    def notice(self) -> dict[str, Any]:
        """The event that tells readers where the gap is."""
        return {
            "type": "notice",
            "level": "warning",
            "message": f"roomtone stopped at {format_clock(self.stopped_at)} and resumed at "
            f"{format_clock(self.start)}; nothing was captured in between",
            "at": self.start,
            "gap": {"start": self.stopped_at, "end": self.start},
            "resumed": self.run,
            "emitted": self.start,
        }


def resume_point(store: SessionStore, session_id: int, now: float | None = None) -> ResumePoint:
    """Where ``session_id`` goes on if its capture starts again ``now`` (Unix time)."""
    info = store.session_info(session_id)
    notices = list(store.events(session_id, ("notice",)))
    runs = sum(1 for e in notices if e.get("resumed"))
    held = max([info.last_time, *(e["at"] for e in notices)])
    wall = (time.time() if now is None else now) - info.created
    return ResumePoint(session_id, held, max(held + RESUME_MARGIN_S, wall), runs + 2)
