"""Absolute time markers among audio tokens, as MOSS-Audio lays them out.

Upstream, a clip's audio tokens (12.5 per second) get the elapsed seconds written
as plain digits after every 25 tokens (2 s): 25 audio tokens, "2", 25 tokens, "4", ...
and no marker after a last run shorter than 25. roomtone writes the same layout
on the session clock: the markers count seconds since the session started, so a
4 s chunk at 41:20 carries "2482" and "2484", and "what happened at 41:20?" has
an anchor in the prefix. For a clip that starts at 0 the layout is upstream's.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKENS_PER_SECOND = 12.5
MARKER_EVERY_TOKENS = 25  # 2 s


@dataclass(frozen=True)
class AudioRun:
    """``count`` audio tokens in a row."""

    count: int


@dataclass(frozen=True)
class Marker:
    """The session second reached at this point, written as digits."""

    second: int

    @property
    def digits(self) -> str:
        """The second as the digit tokens spell it."""
        return str(self.second)


def marker_layout(first_token: int, tokens: int) -> list[AudioRun | Marker]:
    """Audio runs and markers for ``tokens`` audio tokens from session token ``first_token``.

    A marker follows every session token count that is a multiple of 25, so
    consecutive spans laid out one after another give the layout of their union.
    """
    if first_token < 0 or tokens < 0:
        raise ValueError("token positions start at 0")
    layout: list[AudioRun | Marker] = []
    at, end = first_token, first_token + tokens
    while at < end:
        boundary = (at // MARKER_EVERY_TOKENS + 1) * MARKER_EVERY_TOKENS
        stop = min(boundary, end)
        layout.append(AudioRun(stop - at))
        if stop == boundary:
            layout.append(Marker(round(boundary / TOKENS_PER_SECOND)))
        at = stop
    return layout


def token_ids(
    layout: list[AudioRun | Marker], audio_id: int, digit_ids: tuple[int, ...]
) -> list[int]:
    """The layout as token ids: ``audio_id`` per audio token, one id per marker digit."""
    ids: list[int] = []
    for item in layout:
        if isinstance(item, AudioRun):
            ids += [audio_id] * item.count
        else:
            ids += [digit_ids[int(d)] for d in item.digits]
    return ids
