"""The assistant's memory of a meeting: a cached LLM prefix kept in step with the captions.

The prefix is the system prompt and the meeting's lines, evaluated once and extended
line by line as lines close; the line still being spoken is evaluated as far as it has
been said, and extended as it goes on, so a question asked while someone talks pays only
for their last few words. Every question to the model begins the same way; that opener is
read ahead after the meeting (and cut whenever the meeting moves on), so a question pays
only for its own words. When lines already in the prefix change (a second-pass
revision, a speaker relabel, a tone), the new lines are spliced in where the old ones
stood, one change at a time: only they are evaluated, what follows stays cached, and the
prefix never goes back, so a question asked meanwhile never pays to read the revised lines
again. A question is asked after the prefix, answered, and the context is cut back to the
prefix, so a question costs only its own tokens.

When the meeting outgrows the context, the older half of the lines folds: its key
lines (tasks, decisions, numbers and dates, word for word) take the half's place in the
prefix, and the recent lines stay cached where they are (moved, not evaluated again).
When the folded parts fill a quarter of the context, they merge into one. Folded lines
stay searchable and the ones closest to a question come back with it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import numpy as np

from ..plugins.base import PrefixLLM
from ..streaming.clock import format_clock
from .catch_up import catch_up_start, catch_up_topic, plain_catch_up
from .clauses import Clause, clauses, closest_clause, dated_tasks, task_named_by_verb
from .grounding import (
    CHECKED_WORDS,
    NOT_DISCUSSED,
    about_the_whole_meeting,
    cite,
    content_words,
    copied_line_at,
    off_topic,
    unsaid,
    whole_sentences,
)
from .number_mentions import clause_saying_its_numbers
from .retrieval import embed_texts, similarities, topic_passage
from .salience import key_moments
from .transcript import LINE_GAP_SECONDS, Line, Transcript
from .written_numbers import written_numbers

SYSTEM = (
    "You are roomtone, an assistant that helps people follow a live meeting. You read the "
    "meeting's transcript: each line starts with its time [mm:ss] from the start of the "
    "meeting, then the speaker (a name, or a label like S2), sometimes how they sounded in "
    "brackets, then what they said. Lines like [12:10] [phone ringing] are sounds.\n"
    "Answer from the transcript in one to four short sentences of your own, with the names, "
    "numbers and dates that were said. After each fact, cite the time of the line it comes "
    "from, like [01:54].\n\n"
    "For example, after these lines:\n"
    "[04:05] Ann: Let's start. Tom, can you send the report by Tuesday?\n"
    "[04:09] Tom: Yes, I'll send it by Tuesday noon.\n"
    "[04:14] [phone ringing]\n"
    "Question: Who will send the report, and by when?\n"
    "Answer: Tom will send the report by Tuesday noon [04:09].\n"
    "Question: Who takes on or gets a task in the line [04:05] Ann: \"Let's start. Tom, can "
    'you send the report by Tuesday?"\n'
    "Answer: Tom | send the report | Tuesday\n"
    "Question: Who takes on or gets a task in the line [04:14] [phone ringing]?\n"
    "Answer: no"
)
EXAMPLE_NAMES = ("Ann", "Tom")  # SYSTEM's example: never a name in an answer unless said
ANSWER_NEVER = ("|",)  # the action-item format of SYSTEM's example is not an answer
HEADER = "<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\nThe meeting so far:\n"
CATCH_UP = "Main points since [{since}]?"
TOPIC_CATCH_UP = "Give the main points said about {topic}, from [{start}] to [{end}]."
TASK_CLAUSE_FROM = 0.5  # eval questions about a task score 0.65-0.71, others below 0.45
WHO = re.compile(r"\s*who\b", re.IGNORECASE)
TASK_WORDS = frozenset(  # a question about the meeting with one of these asks for its tasks
    [
        "action",
        "actions",
        "item",
        "items",
        "task",
        "tasks",
        "todo",
        "todos",
        "owner",
        "owners",
        "assigned",
        "promised",
        "committed",
        "follow",
        "followup",
        "followups",
        "step",
        "steps",
    ]
)
SHORT_CATCH_UP_WORDS = 60  # a catch-up this short is given word for word, not summarised
ASSISTANT_TURN = "<|im_end|>\n<|im_start|>assistant\n"
QUESTION_OPENER = "\nQuestion:"  # how every question to the model begins
CITATION = re.compile(r"\[(?:(\d+):)?(\d{1,2}):(\d{2})\]")
ANSWER_TOKENS = 120  # answers to who/what/when questions run 15-50 tokens
CATCH_UP_TOKENS = 48  # a catch-up's summary (its key moments follow it, word for word):
# at 0.11 s a token on one thread beside a live replay, 80 took the whole answer to 9.7 s
WHOLE_MEETING_MOMENTS = 8  # "What was decided?" is answered with this many key lines
NO_KEY_MOMENTS = "No task, decision, number or date has been said yet."
PIECE_CHARS = 120  # a line is read this much at a time (~30 tokens, ~1 s on one core)
FOLD_KEY_LINES = 6  # a folded part stands in the prefix as its most salient lines
FOLDED_SHARE = 4  # folded parts may fill a quarter of the context; then they merge into one


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
class Spoken:
    """The line still being spoken, as far as the prefix holds it."""

    text: str  # its rendering so far (no newline: it goes on)
    mark: int  # the prefix position before it


@dataclass(frozen=True)
class Opener:
    """The question opener, read ahead after the meeting as the prefix holds it."""

    after: str  # the lines it follows that are not closed (their rendering)
    mark: int  # the prefix position before it


@dataclass(frozen=True)
class Folded:
    """Lines folded out of the prefix; their key lines stand in for them."""

    lines: list[Line]
    key_lines: int = FOLD_KEY_LINES

    def render(self) -> str:
        """How the part stands in the prefix: its time range and key lines."""
        span = f"[{format_clock(self.lines[0].start)}]-[{format_clock(self.lines[-1].end)}]"
        said = _rendered(key_moments(self.lines, self.key_lines))
        return f"Key lines of {span}:\n{said}"


class MeetingMemory:
    """Keeps an LLM's prefix in step with a meeting's transcript.

    Safe to share between a thread that calls :meth:`update` and threads that ask.
    """

    def __init__(self, llm: PrefixLLM, *, reserve_tokens: int = 1024) -> None:
        self.llm = llm
        self._reserve = reserve_tokens
        self._lines: list[Line] = []  # lines in the prefix, in order
        self._marks: list[int] = []  # the prefix position before each of them
        self.folded: list[Folded] = []
        self.notes: dict[str, Any] = {}  # what others keep per meeting (action verdicts)
        self._spoken: Spoken | None = None  # the open line, after the closed ones
        self._opener: Opener | None = None  # read ahead after all that was said
        self._unspliced = 0  # lines the changes still to be spliced add (or remove, < 0)
        self._lock = threading.RLock()
        self._asking = 0  # questions waiting for the memory or being answered
        self._asked = threading.Condition()
        self.llm.reset(HEADER.format(system=SYSTEM))
        self._folded_at = self.llm.position  # the folded parts stand from here on

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """Hold the memory for a question; the upkeep waits while a question waits."""
        with self._asked:
            self._asking += 1
        try:
            with self._lock:
                yield
        finally:
            with self._asked:
                self._asking -= 1
                self._asked.notify_all()

    @property
    def lines_in_prefix(self) -> int:
        """How many transcript lines the cached prefix holds (folded ones not counted)."""
        return len(self._lines)

    @property
    def _folded_lines(self) -> int:
        return sum(len(f.lines) for f in self.folded)

    @property
    def _covered(self) -> int:
        """How many of the transcript's lines the prefix stands for (some maybe as they were)."""
        return self._folded_lines + len(self._lines) + self._unspliced

    def update(self, transcript: Transcript) -> int:
        """Bring the prefix in step with the transcript's closed lines; returns lines evaluated.

        A line is closed once a later line exists or its speaker has paused; the line
        still being spoken is evaluated as far as it goes (and cut back if it changes).
        """
        with self._lock:
            self._drop_opener()
            lines = transcript.lines()
            closed = self._closed(transcript, lines)
            speaking = lines[len(closed)] if len(closed) < len(lines) else None
            changes = self._changes(closed[self._folded_lines :])
        # later ones first: earlier marks stay as they are
        pending: list[tuple[slice, list[Line], str | None]] = [(*c, None) for c in changes[::-1]]
        evaluated = 0
        while True:
            with self._asked:  # a question waiting goes first (a lock is not fair)
                self._asked.wait_for(lambda: self._asking == 0)
            with self._lock:  # one line or piece at a time, so a question never waits long
                at = self._covered
                line = closed[at] if at < len(closed) else None
                text = held_text(line) if line is not None else ""
                folds = line is not None and self._lines and not self._fits(text)
                if pending and folds:  # the changes first: folding moves the lines
                    evaluated += self._splice_next(pending)
                    continue
                if line is None:
                    said = speaking.render() if speaking is not None else ""
                    piece = self._next_piece(said) if said else None
                    if piece is not None and self._follow_spoken(piece):
                        continue  # the rest after a question waiting has had its turn
                    if said:
                        self._follow_spoken(said)
                    if pending:  # new words first (a question pays for them), then changes
                        evaluated += self._splice_next(pending)
                        continue
                    self._read_opener(lines[at:])
                    return evaluated
                if folds:
                    self._fold()
                    continue
                piece = self._next_piece(text)
                if piece is not None:  # a long line is read a piece at a time, as if said
                    self._follow_spoken(piece)
                    continue
                spoken = self._spoken  # if held, this line starts where it does
                self._marks.append(spoken.mark if spoken is not None else self.llm.position)
                self.llm.extend(self._unevaluated(text, closing=True))
                self._lines.append(line)
                evaluated += 1
            if not line.sound:  # ready for the off-topic gate, citations and who-questions
                embed_texts([line.text, *(clause.words for clause in clauses(line))])

    def answer(
        self,
        question: str,
        transcript: Transcript,
        *,
        since: float | None = None,
        use_prefix: bool = True,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer ``question`` about the meeting so far, timed, each sentence cited.

        ``since`` (or a question like "what did I miss since 10:40?") limits it to what
        was said from then on. A question nothing said is about is "Not discussed."
        without the model. Numbers the question spells out are read in digits, as the
        captions write them. ``on_text`` gets the answer's pieces as they come.
        """
        started = time.perf_counter()
        question = " ".join(question.split())
        if not question:
            raise ValueError("the question is empty")
        question = written_numbers(question)  # "the twenty seventh" as the captions write it
        if since is None:
            since = catch_up_start(question, transcript.heard_until)
        every = transcript.lines()  # built once: each build infers names over the meeting
        # a line still going on at ``since`` counts: it was said from then on
        lines = [line for line in every if since is None or line.end > since]
        if since is None and off_topic(question, lines):
            return Answer(NOT_DISCUSSED, [], 0.0, time.perf_counter() - started, 0)
        if since is None and about_the_whole_meeting(question):
            # No line is close to it, and the model asked it writes its prompt's example
            # ("send the report") into the meeting: the meeting's tasks, or its key lines.
            tasks = dated_tasks(lines) if _about_tasks(question) else []
            moments = key_moments(lines, WHOLE_MEETING_MOMENTS)
            said = _tasks_text(tasks) if tasks else NO_KEY_MOMENTS
            if moments and not tasks:
                said = _key_moments_text(moments)
            if on_text is not None:
                on_text(said)
            total = time.perf_counter() - started
            return Answer(said, cited_lines(said, every), total, total, 0)
        if since is not None and not any(not line.sound for line in lines):
            quiet = f"Nothing was said from [{format_clock(since)}] on."
            return Answer(quiet, [], 0.0, time.perf_counter() - started, 0)
        if since is not None and sum(len(ln.text.split()) for ln in lines) <= SHORT_CATCH_UP_WORDS:
            # Too little to summarise: a small model would pad it out. Say it as it was said.
            said = f"From [{format_clock(since)}] on:\n" + "\n".join(
                f"- {line.render()}" for line in lines
            )
            if on_text is not None:
                on_text(said)
            total = time.perf_counter() - started
            return Answer(said, cited_lines(said, every), total, total, 0)
        topic = catch_up_topic(question) if since is None else None
        passage = topic_passage(lines, topic) if topic else []
        # a catch-up: the key moments go under the summary, word for word
        moments = key_moments(lines) if since is not None else key_moments(passage, 4)
        first = None
        written = ""
        with self._turn():
            instruction = self._question(question, since, topic, passage, every)
            suffix = self.suffix(instruction, every, question)
            avoid = _unsaid(every, question) + ANSWER_NEVER
            limit = CATCH_UP_TOKENS if since is not None or passage else ANSWER_TOKENS
            stream = self.llm.complete(suffix, limit, use_prefix=use_prefix, avoid=avoid)
            with closing(stream):  # stopping early frees the model at once
                for piece in stream:
                    if first is None:
                        first = time.perf_counter() - started
                    written += piece
                    if on_text is not None:
                        on_text(piece)
                    copied = copied_line_at(written, every) if moments else None
                    if copied is not None:  # a line of the meeting, not a summary of it
                        written = written[:copied]
                        break
        summary = whole_sentences(written).strip()
        parts = [cite(summary, lines, question)] if summary else []
        if moments:
            parts.append(_key_moments_text(moments))
        text = "\n".join(parts) or NOT_DISCUSSED
        total = time.perf_counter() - started
        return Answer(
            text=text,
            citations=cited_lines(text, every),
            first_token_s=first if first is not None else total,
            total_s=total,
            prompt_tokens=len(self.llm.tokens(suffix)),
        )

    def complete(self, instruction: str, lines: list[Line], max_tokens: int) -> str:
        """The model's whole reply to ``instruction`` after the meeting so far.

        ``lines`` are the transcript's lines now (``Transcript.lines()``).
        """
        with self._turn():
            suffix = self.suffix(instruction, lines)
            avoid = _unsaid(lines, instruction)
            return "".join(self.llm.complete(suffix, max_tokens, avoid=avoid))

    def suffix(self, instruction: str, lines: list[Line], topic: str = "") -> str:
        """What follows the cached prefix, ending with ``instruction``.

        The lines of ``lines`` (all the transcript's lines now) not in the prefix yet come
        first, then folded lines close to ``topic``. Where the prefix ends with all that
        was said and the question opener, a question is only what follows its opener.
        """
        with self._turn():
            tail = _rendered(lines[self._covered :])
            recalled = self._recall(topic) if topic else []
            opener = self._opener  # the prefix may end with all that was said and the opener
            read_ahead = opener is not None and opener.after == tail and not recalled
            if read_ahead and instruction.startswith(QUESTION_OPENER):
                return instruction[len(QUESTION_OPENER) :]
            self._drop_opener()
            said = tail[self._held(tail) :]  # the upkeep's part of a line stays, even if changed
        parts = []
        if recalled:  # after the line being spoken, if the prefix holds part of it
            parts.append("Earlier lines that may matter:\n" + _rendered(recalled))
        return said + "".join(parts) + instruction

    def _question(
        self,
        question: str,
        since: float | None,
        topic: str | None,
        passage: list[Line],
        lines: list[Line],
    ) -> str:
        """The instruction for ``question``.

        A catch-up covers the lines from ``since`` on (one that asks nothing else is given
        as that window alone), or the ``passage`` about ``topic``. A question about who
        took on a task comes with the clause of ``lines`` that says it, "I" and "you"
        written as names: a small model otherwise names someone else on the line, or the
        one who asked. Where no clause is close in meaning or by its verb, the latest clause
        that says the question's number ("Who is on call on the 27th?") is taken. A clause
        the prefix holds as a note after its line is named by its owner alone: the
        question then costs its own words and the name (18-23 tokens, not 36-55).
        """
        task = None
        if WHO.match(question):
            task = closest_clause(question, lines, TASK_CLAUSE_FROM)
            task = task or task_named_by_verb(question, lines)
            task = task or clause_saying_its_numbers(question, lines)
        said, asked = "", question
        if task is not None and self._noted(task):
            asked = f"{question} ({task.owner})"
        elif task is not None:
            said = f"\n[{format_clock(task.line.start)}] ({task.as_said_of_owner()}.)"
        if since is not None:
            window = CATCH_UP.format(since=format_clock(since))
            asked = window if plain_catch_up(question) else f"{question} {window}"
        elif topic and passage:
            start, end = format_clock(passage[0].start), format_clock(passage[-1].end)
            asked = f"{question} {TOPIC_CATCH_UP.format(topic=topic, start=start, end=end)}"
        return f"{said}{QUESTION_OPENER} {asked}{ASSISTANT_TURN}"

    def _noted(self, task: Clause) -> bool:
        """Whether the prefix holds ``task`` as a note after its line."""
        notes = task_notes(task.line) if task.line in self._lines else []
        return any(note.owner == task.owner for note in notes)

    def _follow_spoken(self, text: str) -> bool:
        """Evaluate the line being spoken (rendered ``text``) as far as it has been said.

        Returns whether anything was evaluated.
        """
        more = self._unevaluated(text)
        if not more or not self._fits(more):
            return False
        at = self._spoken.mark if self._spoken is not None else self.llm.position
        self.llm.extend(more)
        self._spoken = Spoken(text, at)
        return True

    def _next_piece(self, text: str) -> str | None:
        """The part of the line ``text`` to read next, if the rest is too long for one go.

        A question waits for what the memory is reading: a piece at a time, it waits
        for no more than about one piece.
        """
        cut = text.find(" ", self._held(text) + PIECE_CHARS)
        return text[:cut] if cut != -1 else None

    def _read_opener(self, tail: list[Line]) -> None:
        """Read the question opener ahead, after ``tail`` (the lines not closed yet).

        Only where the prefix holds all of them but the held line's newline, and there
        is room: then a question evaluates no more than its own words.
        """
        after = _rendered(tail)
        rest = self._unevaluated(after)
        ahead = rest + QUESTION_OPENER
        if rest.strip() or not self._fits(ahead):
            return
        mark = self.llm.position
        self.llm.extend(ahead)
        self._opener = Opener(after, mark)

    def _drop_opener(self) -> None:
        """Cut the opener read ahead (the meeting goes on, or a prompt starts otherwise)."""
        if self._opener is not None:
            self.llm.rewind(self._opener.mark)
            self._opener = None

    def _unevaluated(self, text: str, closing: bool = False) -> str:
        """What of ``text`` (the lines after the closed ones) the prefix does not hold yet.

        The part of the line being spoken that the prefix holds counts if ``text`` goes
        on from it; otherwise that part is cut from the prefix (the line changed).
        ``closing``: ``text`` is that line, closed, now joining the prefix's lines.
        """
        spoken = self._spoken
        if spoken is None:
            return text
        held = self._held(text)
        if held:
            if closing:
                self._spoken = None
            return text[held:]
        self.llm.rewind(spoken.mark)
        self._spoken = None
        return text

    def _held(self, text: str) -> int:
        """How much of ``text`` the prefix holds as the line being read (0: none, or not it)."""
        spoken = self._spoken
        return len(spoken.text) if spoken is not None and text.startswith(spoken.text) else 0

    def _closed(self, transcript: Transcript, lines: list[Line] | None = None) -> list[Line]:
        """The lines that will not grow any more: all up to the first one still open."""
        lines = transcript.lines() if lines is None else lines
        open_after = transcript.heard_until - LINE_GAP_SECONDS
        for i, line in enumerate(lines):
            if not line.sound and line.end > open_after:
                return lines[:i]
        return lines

    def _changes(self, closed: list[Line]) -> list[tuple[slice, list[Line]]]:
        """How the prefix's lines differ from ``closed`` (the closed lines after the folded ones).

        Each change replaces, inserts or removes one line: the prefix's lines it replaces
        (none or one) and the lines it puts there (none or one), in order. Lines new at the
        end are not changes: they are extended.
        """
        head = 0
        while head < min(len(self._lines), len(closed)) and self._lines[head] == closed[head]:
            head += 1
        held = len(self._lines)
        changes: list[tuple[slice, list[Line]]] = []
        matcher = SequenceMatcher(None, self._lines[head:], closed[head:], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            i1, i2, j1, j2 = i1 + head, i2 + head, j1 + head, j2 + head
            paired = min(i2 - i1, j2 - j1)
            changes += [(slice(i1 + k, i1 + k + 1), [closed[j1 + k]]) for k in range(paired)]
            changes += [(slice(i, i + 1), []) for i in range(i1 + paired, i2)]
            if i2 < held:  # lines new in the middle (at the end, they are extended)
                changes += [(slice(i2, i2), [line]) for line in closed[j1 + paired : j2]]
        self._unspliced = sum(len(new) - (old.stop - old.start) for old, new in changes)
        return changes

    def _splice_next(self, pending: list[tuple[slice, list[Line], str | None]]) -> int:
        """Splice the first of the ``pending`` changes (the rest of a long line goes next)."""
        evaluated, left = self._splice_lines(*pending.pop(0))
        if left is not None:
            pending.insert(0, left)
        return evaluated

    def _splice_lines(
        self, old: slice, new: list[Line], text: str | None = None
    ) -> tuple[int, tuple[slice, list[Line], str] | None]:
        """Put ``new`` where the prefix's lines ``old`` stand; what follows stays cached.

        Returns the lines evaluated, and what is left to splice: a long line goes in a
        piece at a time, its rest (``text``, with no lines of its own) spliced in after
        the piece before the line that follows. A line whose text is as it was is only
        relabelled.
        """
        self._unspliced -= len(new) - (old.stop - old.start)
        rest = text is not None  # the rest of the line before ``old.start``
        if not rest and [ln.render() for ln in self._lines[old]] == [ln.render() for ln in new]:
            self._lines[old] = new
            return 0, None
        text = "".join(held_text(line) for line in new) if text is None else text
        left = None
        cut = text.find(" ", PIECE_CHARS) if len(new) <= 1 else -1
        if cut != -1:
            after = slice(old.start + len(new), old.start + len(new))
            text, left = text[:cut], (after, [], text[cut:])
        end_of_lines = self._spoken.mark if self._spoken is not None else self.llm.position
        start = self._marks[old.start] if old.start < len(self._marks) else end_of_lines
        end = self._marks[old.stop] if old.stop < len(self._marks) else end_of_lines
        if not self._fits(text):  # no room: cut back; the lines are extended again
            self._cut_back_to(old.start - 1 if rest else old.start)
            return 0, None
        before = self.llm.position
        self.llm.splice(start, end, text)
        moved = self.llm.position - before
        self._lines[old] = new
        self._marks[old] = [start] * len(new)
        after = old.start + len(new)
        self._marks[after:] = [mark + moved for mark in self._marks[after:]]
        if self._spoken is not None:
            self._spoken.mark += moved
        return len(new), left

    def _cut_back_to(self, index: int) -> None:
        """Cut the prefix back to before its line ``index`` (the lines after are read again)."""
        if index < len(self._marks):
            self.llm.rewind(self._marks[index])
        elif self._spoken is not None:
            self.llm.rewind(self._spoken.mark)
        del self._lines[index:], self._marks[index:]
        self._spoken = None

    def _fits(self, text: str) -> bool:
        """Whether the prefix has room for ``text`` and still keeps the question's reserve."""
        budget = self.llm.capabilities.context_tokens - self._reserve
        return self.llm.prefix_tokens + len(self.llm.tokens(text)) <= budget

    def _fold(self) -> None:
        """Fold the older half of the prefix's lines into its key lines, in its place."""
        half = max(1, len(self._lines) // 2)
        self._replace(self._marks[0], self._line_mark(half), Folded(self._lines[:half]), half)
        if self._folded_end - self._folded_at > (
            self.llm.capabilities.context_tokens // FOLDED_SHARE
        ):
            every = [line for f in self.folded for line in f.lines]
            self.folded = []
            merged = Folded(every, 2 * FOLD_KEY_LINES)
            self._replace(self._folded_at, self._folded_end, merged, 0)

    @property
    def _folded_end(self) -> int:
        return self._line_mark(0)

    def _line_mark(self, index: int) -> int:
        """Where the prefix's line ``index`` starts (for one past the last: where they end)."""
        if index < len(self._marks):
            return self._marks[index]
        return self._spoken.mark if self._spoken is not None else self.llm.position

    def _replace(self, start: int, end: int, folded: Folded, lines: int) -> None:
        """Put ``folded`` at the prefix's ``start:end`` (there: its first ``lines`` lines)."""
        before = self.llm.position
        self.llm.splice(start, end, folded.render())
        moved = self.llm.position - before
        self.folded.append(folded)
        self._lines = self._lines[lines:]
        self._marks = [mark + moved for mark in self._marks[lines:]]
        if self._spoken is not None:
            self._spoken.mark += moved

    def _recall(self, question: str, top: int = 3) -> list[Line]:
        """Folded lines closer to the question than any line in the prefix, in time order.

        Only those: every recalled line is paid for by the question, so a question the
        recent part of the meeting answers brings nothing back.
        """
        folded = [line for f in self.folded for line in f.lines if not line.sound]
        if not folded:
            return []
        present = [line for line in self._lines if not line.sound]
        bar = float(similarities(question, present).max()) if present else 0.0
        scores = similarities(question, folded)
        best = [i for i in np.argsort(-scores)[:top] if scores[i] > bar]
        return sorted((folded[i] for i in best), key=lambda line: line.start)


def _key_moments_text(moments: list[Line]) -> str:
    """Key moments as an answer lists them, word for word under their times."""
    return "\n".join(["Key moments:", *(f"- {m.render()}" for m in moments)])


def _about_tasks(question: str) -> bool:
    """A question about the meeting's tasks, asked of the whole meeting ("Who did what?")."""
    return bool(content_words(question) & TASK_WORDS) or bool(WHO.match(question))


def _tasks_text(tasks: list[Clause]) -> str:
    """Tasks as an answer lists them: each clause with its owner's name, under its time."""
    rows = [f"- [{format_clock(c.line.start)}] {c.as_said_of_owner()}." for c in tasks]
    return "\n".join(["Tasks given or taken on, as said:", *rows])


def _rendered(lines: list[Line]) -> str:
    return "".join(line.render() + "\n" for line in lines)


def task_notes(line: Line) -> list[Clause]:
    """The task clauses the prefix says after ``line``, each with its owner's name.

    Only those whose owner the line itself gives: a task told without a name goes to
    whoever answers, not known when the line is read.
    """
    return [clause for clause in clauses(line) if clause.owner] if not line.sound else []


def held_text(line: Line) -> str:
    """A closed line as the prefix holds it: the line, then its task notes.

    "[00:32] S2: I'll escalate it today." is followed by "(S2 will escalate it today.)":
    read once with the line, it spares a question about the task the clause's tokens.
    """
    notes = "".join(f"({clause.as_said_of_owner()}.)\n" for clause in task_notes(line))
    return line.render() + "\n" + notes


def _unsaid(lines: list[Line], *also: str) -> tuple[str, ...]:
    """The dates and example names an answer about ``lines`` may not write."""
    return unsaid((*CHECKED_WORDS, *EXAMPLE_NAMES), lines, *also)


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
