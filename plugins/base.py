"""The small interfaces every model backend implements, and their discovery."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..streaming.records import Word


@dataclass(frozen=True)
class RecognizerCapabilities:
    """What a speech recogniser can do, so adapters know what to add around it."""

    streaming: bool
    partials: bool
    word_timestamps: bool
    languages: tuple[str, ...]


@runtime_checkable
class WindowRecognizer(Protocol):
    """Recognises one window of audio; the streaming adapter turns it into live captions."""

    capabilities: RecognizerCapabilities
    name: str

    def transcribe(self, audio: np.ndarray, offset: float, prefix: str = "") -> list[Word]:
        """Words in ``audio`` (16 kHz float32 mono), timed on the session clock.

        ``offset`` is the session time of the first sample; ``prefix`` is text
        already final for the start of the window, which the result continues.
        Called often on short windows: it must be quick.
        """
        ...

    def revise(self, audio: np.ndarray, offset: float) -> list[Word]:
        """All words in a block of up to 30 s, recognised as well as the model can.

        The second pass over audio already captioned; called from another thread
        than :meth:`transcribe`, so the two must not share mutable state.
        """
        ...


class PluginError(RuntimeError):
    """A plugin could not be found or loaded; the message says how to fix it."""


def load_plugin(group: str, name: str) -> Any:
    """The class registered under ``name`` in the entry-point group ``group``."""
    found = {ep.name: ep for ep in entry_points(group=group)}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise PluginError(f"no {group} plugin named {name!r} (installed: {known})")
    return found[name].load()


@dataclass(frozen=True)
class AnalyzerCapabilities:
    """What an audio analyser (speakers, sounds, tone) adds to the event stream."""

    events: tuple[str, ...]  # event types it emits
    refines: bool = False  # it may later replace events it emitted (same id)


@runtime_checkable
class AudioAnalyzer(Protocol):
    """Listens to the session's audio beside the captioner and emits its own events."""

    capabilities: AnalyzerCapabilities
    name: str

    def feed(self, samples: np.ndarray, start_sample: int) -> list[Any]:
        """Records decided by this audio (16 kHz float32 starting at ``start_sample``)."""
        ...

    def finish(self) -> list[Any]:
        """Records still open at the end of the input."""
        ...


class ModelClosedError(RuntimeError):
    """The language model was asked for work after :meth:`PrefixLLM.close`."""

    def __init__(self) -> None:
        super().__init__("the language model has been closed")


@dataclass(frozen=True)
class LLMCapabilities:
    """What a language-model backend offers the assistant."""

    prefix_cache: bool  # extending the prefix costs only the new tokens
    context_tokens: int
    streaming: bool = True


def avoided_forms(words: tuple[str, ...]) -> list[str]:
    """How ``PrefixLLM.complete(avoid=words)`` words are written: as given and capitalised."""
    return sorted({form for word in words for form in (word, word[:1].upper() + word[1:])})


@runtime_checkable
class PrefixLLM(Protocol):
    """A language model holding one growing prefix (the meeting) that questions follow.

    A question is evaluated after the prefix and answered; the prefix stays as it was.
    """

    capabilities: LLMCapabilities
    name: str

    @property
    def prefix_tokens(self) -> int:
        """How many tokens the prefix holds."""
        ...

    @property
    def position(self) -> int:
        """Where the prefix ends now, in the backend's own units."""
        ...

    def tokens(self, text: str) -> list[int]:
        """The tokens of ``text`` (to budget the context)."""
        ...

    def extend(self, text: str) -> int:
        """Append ``text`` to the prefix; returns its token count."""
        ...

    def rewind(self, position: int) -> None:
        """Cut the prefix back to an earlier ``position``."""
        ...

    def splice(self, start: int, end: int, text: str) -> None:
        """Replace the prefix between two positions with ``text``; what follows is kept.

        A backend with a prefix cache keeps what follows cached (not evaluated again).
        """
        ...

    def reset(self, text: str = "") -> None:
        """Start the prefix over with ``text``."""
        ...

    def complete(
        self,
        suffix: str,
        max_tokens: int = 256,
        use_prefix: bool = True,
        avoid: tuple[str, ...] = (),
    ) -> Generator[str, None, None]:
        """Stream the greedy completion of prefix + ``suffix``; the prefix is kept.

        ``avoid``: words the completion must not write (as given or capitalised).
        Closing the stream early stops the model there.
        """
        ...

    def close(self) -> None:
        """Free the model now, in a known state, not in the interpreter's last moments.

        Nothing may be asked of it afterwards (a :class:`ModelClosedError` says so).
        """
        ...
