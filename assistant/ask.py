"""Ask about a stored session from the command line: answers and action items."""

from __future__ import annotations

from ..streaming.clock import format_clock
from .catch_up import clock_seconds
from .memory import Answer, MeetingMemory
from .store import SessionStore
from .transcript import Transcript


def parse_since(text: str) -> float:
    """Seconds from ``mm:ss``, ``h:mm:ss`` or plain seconds; a clear error otherwise."""
    text = text.strip()
    seconds = clock_seconds(text)
    if seconds is not None:
        return seconds
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: write a time as mm:ss (e.g. 10:40)") from None
    if value < 0:
        raise ValueError("--since cannot be negative")
    return value


def session_transcript(store: SessionStore, session_id: int) -> Transcript:
    """The transcript of a stored session, as far as it has got."""
    transcript = Transcript()
    for event in store.events(session_id):
        transcript.add(event)
    return transcript


def check_question(transcript: Transcript, question: str, since: float | None) -> None:
    """A clear error for an empty question or a ``since`` past the meeting so far."""
    if not " ".join(question.split()):
        raise ValueError("the question is empty: ask something about the meeting")
    if since is not None and since > transcript.heard_until:
        raise ValueError(
            f"--since {format_clock(since)} is after the end of the meeting so far "
            f"({format_clock(transcript.heard_until)})"
        )


def answer_question(
    llm, transcript: Transcript, question: str, since: float | None = None
) -> Answer:
    """Answer one question about the transcript with a fresh memory over ``llm``."""
    return StoredSessionAsker(llm, transcript)(question, since)


class StoredSessionAsker:
    """Answers questions about a finished session; the model reads it once, on first ask."""

    def __init__(self, llm, transcript: Transcript) -> None:
        self.llm, self.transcript = llm, transcript
        self._memory: MeetingMemory | None = None

    def __call__(self, question: str, since: float | None = None, on_text=None) -> Answer:
        """Like :meth:`LiveAssistant.ask`, for a session that is over."""
        check_question(self.transcript, question, since)
        if not self.transcript.lines():
            return Answer("Nothing has been said yet.", [], 0.0, 0.0, 0)
        if self._memory is None:
            self._memory = MeetingMemory(self.llm)
            self._memory.update(self.transcript)
        return self._memory.answer(question, self.transcript, since=since, on_text=on_text)
