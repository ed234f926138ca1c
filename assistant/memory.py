"""The assistant's memory of a meeting: a cached LLM prefix that grows as captions settle.

The prefix is the system prompt and the meeting's settled lines, evaluated once and
extended line by line. A question is asked after it (with the few lines not settled
yet), answered, and the context is cut back to the prefix. When the meeting
outgrows the context, the oldest lines fold into a short summary with their time
range, and the prefix is rebuilt as summary + recent lines; folded lines stay
searchable, and the most relevant ones come back with a question.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..streaming.clock import format_clock
from .transcript import Line, Transcript

SYSTEM = (
    "You are roomtone, an assistant that helps people follow a live meeting. You read "
    "the meeting's transcript: each line starts with its time [mm:ss] from the start of "
    "the meeting, then the speaker (a name or a label like S2), sometimes how they "
    "sounded in brackets, then what they said. Lines like [12:10] [phone ringing] are "
    "sounds. Answer only from the transcript. Cite the time of every line your answer "
    "rests on as [mm:ss]. If the transcript does not say, answer exactly: Not discussed."
)
HEADER = "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\nThe meeting so far:\n"
CITATION = re.compile(r"\[(?:(\d+):)?(\d{1,2}):(\d{2})\]")


@dataclass(frozen=True)
class Answer:
    """An answer with the moments it cites (each the span of a real transcript line)."""

    text: str
    citations: list[tuple[float, float]]
    first_token_s: float
    total_s: float
    prompt_tokens: int

    def to_json(self) -> dict[str, object]:
        """The ``--json`` form (design.md section 6)."""
        return {
            "answer": self.text,
            "citations": [{"start": round(s, 2), "end": round(e, 2)} for s, e in self.citations],
            "first_token_s": round(self.first_token_s, 3),
            "total_s": round(self.total_s, 3),
            "prompt_tokens": self.prompt_tokens,
        }


@dataclass
class _Folded:
    start: float
    end: float
    summary: str
    lines: list[Line] = field(default_factory=list)


class MeetingMemory:
    """Keeps an LLM's prefix in step with a meeting's settled transcript."""

    def __init__(self, llm, *, reserve_tokens: int = 1536) -> None:
        self.llm = llm
        self._reserve = reserve_tokens
        self._in_prefix: list[Line] = []
        self._folded: list[_Folded] = []
        self.llm.reset(HEADER.format(system=SYSTEM))

    @property
    def lines_in_prefix(self) -> int:
        """How many transcript lines the cached prefix holds."""
        return len(self._in_prefix)

    def update(self, transcript: Transcript) -> int:
        """Extend the prefix with newly settled lines; returns how many were added."""
        settled = transcript.settled_lines()
        known = len(self._in_prefix) + sum(len(f.lines) for f in self._folded)
        new = settled[known:]
        for line in new:
            text = line.render() + "\n"
            budget = self.llm.capabilities.context_tokens - self._reserve
            if self.llm.prefix_tokens + len(self.llm.tokens(text)) > budget:
                self._fold()
            self.llm.extend(text)
            self._in_prefix.append(line)
        return len(new)

    def ask(
        self,
        question: str,
        transcript: Transcript,
        *,
        since: float | None = None,
        max_tokens: int = 200,
        use_prefix: bool = True,
    ) -> Iterator[str]:
        """Stream the answer to ``question`` about the meeting so far."""
        suffix = self._prompt(question, transcript, since)
        yield from self.llm.complete(suffix, max_tokens, use_prefix=use_prefix)

    def answer(
        self,
        question: str,
        transcript: Transcript,
        *,
        since: float | None = None,
        use_prefix: bool = True,
    ) -> Answer:
        """The whole answer, timed, with its citations checked against the transcript."""
        started = time.perf_counter()
        first = None
        pieces = []
        suffix = self._prompt(question, transcript, since)
        for piece in self.llm.complete(suffix, 200, use_prefix=use_prefix):
            if first is None:
                first = time.perf_counter() - started
            pieces.append(piece)
        total = time.perf_counter() - started
        text = "".join(pieces).strip() or "Not discussed."
        return Answer(
            text=text,
            citations=cited_lines(text, transcript.lines()),
            first_token_s=first if first is not None else total,
            total_s=total,
            prompt_tokens=len(self.llm.tokens(suffix)),
        )

    def _prompt(self, question: str, transcript: Transcript, since: float | None) -> str:
        """What follows the cached prefix for ``question`` (a clear error if it is empty)."""
        question = " ".join(question.split())
        if not question:
            raise ValueError("the question is empty")
        return self._suffix(question, transcript, since)

    def _suffix(self, question: str, transcript: Transcript, since: float | None) -> str:
        tail = transcript.lines()[len(self._in_prefix) + sum(len(f.lines) for f in self._folded) :]
        recalled = self._recall(question)
        parts = []
        if recalled:
            parts.append(
                "Earlier lines that may matter:\n" + "".join(ln.render() + "\n" for ln in recalled)
            )
        if tail:
            parts.append("".join(line.render() + "\n" for line in tail))
        now = format_clock(transcript.heard_until)
        scope = ""
        if since is not None:
            scope = f" Use only the lines from [{format_clock(since)}] on."
        parts.append(
            f"\nIt is now [{now}]. Question: {question}{scope}\n"
            "Answer in one to four short sentences and cite times as [mm:ss]."
            "<|im_end|>\n<|im_start|>assistant\n"
        )
        return "".join(parts)

    def _fold(self) -> None:
        """Fold the older half of the prefix into a summary and rebuild the prefix."""
        half = max(1, len(self._in_prefix) // 2)
        old, keep = self._in_prefix[:half], self._in_prefix[half:]
        text = "".join(line.render() + "\n" for line in old)
        prompt = (
            "<|im_start|>user\nSummarise these meeting lines in at most 8 short bullet points, "
            "keeping names, numbers, dates, decisions and who will do what, each with its "
            f"[mm:ss] time:\n{text}<|im_end|>\n<|im_start|>assistant\n"
        )
        self.llm.reset()
        summary = "".join(self.llm.complete(prompt, 300, use_prefix=False)).strip()
        self._folded.append(_Folded(old[0].start, old[-1].end, summary, old))
        header = HEADER.format(system=SYSTEM)
        summaries = "".join(
            f"Summary of [{format_clock(f.start)}]-[{format_clock(f.end)}]:\n{f.summary}\n"
            for f in self._folded
        )
        self.llm.reset(header + summaries + "".join(line.render() + "\n" for line in keep))
        self._in_prefix = keep

    def _recall(self, question: str, top: int = 6) -> list[Line]:
        """Folded lines most like the question (sentence embeddings), in time order."""
        folded = [line for f in self._folded for line in f.lines]
        if not folded:
            return []
        from .retrieval import most_similar

        return sorted(most_similar(question, folded, top), key=lambda line: line.start)


def cited_lines(text: str, lines: list[Line]) -> list[tuple[float, float]]:
    """The transcript lines the answer's [mm:ss] citations point at (invented times dropped)."""
    spans = []
    for match in CITATION.finditer(text):
        hours, minutes, seconds = match.groups()
        at = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
        line = line_at(lines, at)
        if line is not None and (line.start, line.end) not in spans:
            spans.append((line.start, line.end))
    return spans


def line_at(lines: list[Line], at: int) -> Line | None:
    """The line stamped [mm:ss] = ``at``, else the line being spoken at ``at``."""
    stamped = next((ln for ln in lines if int(ln.start) == at), None)
    return stamped or next((ln for ln in lines if int(ln.start) <= at <= ln.end + 1), None)
