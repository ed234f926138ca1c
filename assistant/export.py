"""Write a stored session out through an exporter plugin."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..plugins.base import load_plugin
from ..plugins.exporters import SessionExport
from .store import SessionStore

FORMATS = ("md", "json", "srt", "vtt")


def export_name(session_id: int, fmt: str) -> str:
    """The file name an export of a session gets when roomtone names it."""
    return f"roomtone-session-{session_id}.{fmt}"


def session_export(
    store: SessionStore, session_id: int, minutes: dict[str, Any] | None = None
) -> SessionExport:
    """What exporters see of one session: speakers under the names people gave them."""
    names = store.speaker_names(session_id)
    captions = [
        replace(c, speaker=names.get(c.speaker, c.speaker)) if c.speaker else c
        for c in store.final_captions(session_id)
    ]
    return SessionExport(
        meta=store.session_meta(session_id),
        captions=captions,
        events=list(store.events(session_id)),
        speaker_names=names,
        minutes=minutes,
    )


def render(
    store: SessionStore, session_id: int, fmt: str, minutes: dict[str, Any] | None = None
) -> str:
    """The session as a document in ``fmt`` (md, json, srt or vtt)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    exporter = load_plugin("roomtone.exporters", fmt)()
    return exporter.render(session_export(store, session_id, minutes))


def write(
    store: SessionStore,
    session_id: int,
    fmt: str,
    target: Path,
    minutes: dict[str, Any] | None = None,
) -> Path:
    """Render and write atomically (a half-written export never replaces a good one)."""
    text = render(store, session_id, fmt, minutes)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target
