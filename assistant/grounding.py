"""Keeping answers tied to what was said: an off-topic gate and a citation for each sentence.

A small model invents rather than admits it does not know, and cites times loosely. So a
question nothing in the meeting is close to (sentence embeddings plus shared words) is
answered "Not discussed." without asking the model, each sentence of an answer is cited with the
line it is closest to — the moment a reader can check — and the words a reader checks most
(days, months, times of day) cannot be written unless the meeting said them: a 1.5B model
otherwise copies "Tuesday noon" from its prompt's example when the line it needs was misheard.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from ..streaming.clock import format_clock
from .retrieval import similarities
from .transcript import Line

# meaning + shared words: eval and other real questions score 0.48-1.36 on their meeting,
# off-topic ones 0.16-0.62 (three quarters of them below 0.40)
OFF_TOPIC_BELOW = 0.40
CITE_FROM = 0.30  # a sentence closer than this to no line gets no citation
ALSO_CITE = 0.85  # a second line scoring this share of the best one is cited as well
REPEATS = 0.75  # a sentence whose content words an earlier one says this much of is a repeat
NOT_DISCUSSED = "Not discussed."
_STAMP = r"\[(?:\d+:)?\d{1,2}:\d{2}\]"  # a moment cited as [mm:ss] or [h:mm:ss]
_CITATION = re.compile(r"\s*" + _STAMP)
_WORD = re.compile(r"[A-Za-z0-9']+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")  # "18,000" is read as "18000"
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "they",
        "them",
        "their",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "my",
        "me",
        "will",
        "would",
        "can",
        "could",
        "should",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "not",
        "no",
        "so",
        "as",
        "if",
        "then",
        "than",
        "there",
        "what",
        "who",
        "when",
        "which",
        "how",
        "about",
        "into",
        "up",
        "out",
        "over",
        "all",
        "also",
        "just",
    ]
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_TIMES_OF_DAY = ("noon", "midnight", "tonight", "tomorrow", "yesterday", "weekend")
CHECKED_WORDS = (*_WEEKDAYS, *_MONTHS, *_TIMES_OF_DAY)
# a question made of these words alone asks about the meeting as a whole ("What was
# decided?", "Who agreed to do what?"): no single line is close to it, yet it is on topic
_MEETING_WIDE = frozenset((
    "action", "actions", "item", "items", "task", "tasks", "todo", "todos", "agreed",
    "agree", "agreement", "agreements", "decided", "decide", "decision", "decisions",
    "deadline", "deadlines", "due", "date", "dates", "next", "step", "steps", "follow",
    "followup", "followups", "owner", "owners", "takeaway", "takeaways", "key", "main",
    "point", "points", "summary", "summarise", "summarize", "recap", "outcome", "outcomes",
    "conclusion", "conclusions", "plan", "plans", "anyone", "anybody", "someone", "somebody",
    "everyone", "everybody", "anything", "something", "whom", "whose", "said", "say", "says",
    "discussed", "talked", "happened", "happen", "promised", "committed", "assigned", "far",
    "meeting", "today", "now", "any", "each",
))  # fmt: skip
# a sentence: up to its mark (a point between digits, as in 1.2, is not one)
_SENTENCE = re.compile(r"(?:[^.!?\n]|\.(?=\d))+(?:[.!?]+|$)")
_CITATION_AT_END = re.compile(_STAMP + "$")
# a sentence's end: its mark and any citations after it, then a space, a new line or the end
_FINISHED = re.compile(r"[.!?]+(?:\s*" + _STAMP + r")*(?=\s|$)")
BULLET_MARKS = "-*•"  # how a list item opens, where it has no number
_BULLET = f"[{re.escape(BULLET_MARKS)}]"
_BARE_MARKER = re.compile(r"\n\s*(?:\d+[.)]|" + _BULLET + r")\s*$")  # "\n2." with no item after it
# how a transcript line opens: "- [01:07] Bob (emphatic): " (a list mark and time optional)
_LINE_OPENING = re.compile(
    r"^[ \t]*(?:" + _BULLET + r"[ \t]*)?(?:" + _STAMP + r"[ \t]*)?"
    r"[A-Z][\w']*(?:[ \t]+\([^)\n]*\))?:[ \t]",
    re.MULTILINE,
)
COPIED_WORDS = 4  # this many words after a line's opening, as a line says them: a copy


def off_topic(question: str, lines: list[Line]) -> bool:
    """Nothing said in ``lines`` is about ``question`` (in meaning or in its words).

    A question about the meeting as a whole is on topic once anything was said.
    """
    spoken = [line for line in lines if not line.sound]
    if not spoken:
        return True
    if about_the_whole_meeting(question):
        return False
    scores = similarities(question, spoken) + _shared_words(question, spoken)
    return float(scores.max()) < OFF_TOPIC_BELOW


def about_the_whole_meeting(question: str) -> bool:
    """``question`` asks about the meeting as a whole: its decisions, tasks, deadlines."""
    words = content_words(question)
    return bool(words) and words <= _MEETING_WIDE


def unsaid(words: tuple[str, ...], lines: list[Line], *also: str) -> tuple[str, ...]:
    """Those of ``words`` that no line (speaker or text) nor any of ``also`` says."""
    texts = [f"{line.speaker or ''} {line.text}" for line in lines] + list(also)
    said = set()
    for w in (w.lower() for text in texts for w in _words(text)):
        said |= {w, w.removesuffix("'s"), w.removesuffix("s")}  # "Friday's", "Mondays"
    return tuple(word for word in words if word.lower() not in said)


def without_bullet(row: str) -> str:
    """A list item's text, without its marks ("- ", "* ", "• ") and outer spaces."""
    return row.strip().lstrip(BULLET_MARKS + " ").strip()


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry its content, lower-cased."""
    return {w.lower() for w in _words(text)} - _STOP


def _shared_words(sentence: str, lines: list[Line], asked: str = "") -> np.ndarray:
    """How much of the sentence's content each line (speaker included) says word for word.

    From 0 to 0.5.

    Numbers, dates and names count double: they are what a reader checks. Words of the
    question ``asked`` do not count when the sentence says more than them: an answer
    restates its question, and the line to cite is the one with what it adds.
    """
    wanted = {}
    for raw in _words(sentence):
        word = raw.lower()
        if word not in _STOP:
            wanted[word] = 2.0 if raw[0].isdigit() or raw[0].isupper() else 1.0
    known = {w.lower() for w in _words(asked)}
    if any(word not in known for word in wanted):
        wanted = {word: weight for word, weight in wanted.items() if word not in known}
    if not wanted:
        return np.zeros(len(lines))
    total = sum(wanted.values())
    found = []
    for line in lines:
        said = {w.lower() for w in _words(f"{line.speaker or ''} {line.text}")}
        found.append(sum(weight for word, weight in wanted.items() if word in said) / total)
    return 0.5 * np.array(found)


def _words(text: str) -> list[str]:
    """The words of ``text``, a number written with thousands commas as one ("18,000")."""
    return _WORD.findall(_THOUSANDS.sub("", text))


def _says_something(sentence: str) -> bool:
    """Three words or more, or a name or number past the first ("S4 (Sam)", not "Great.")."""
    words = _words(sentence)
    return len(words) >= 3 or any(w[0].isupper() or w[0].isdigit() for w in words[1:])


def whole_sentences(text: str) -> str:
    """``text`` without a last sentence left unfinished (an answer cut at its token limit)."""
    text = _BARE_MARKER.sub("", text.rstrip()).rstrip()
    ends = [match.end() for match in _FINISHED.finditer(text)]
    if not ends or _CITATION_AT_END.search(text):  # a cited fact ends there
        return text
    return text[: ends[-1]]


def copied_line_at(text: str, lines: list[Line]) -> int | None:
    """Where ``text`` starts writing a line of ``lines`` out again ("Bob: Right, the ...").

    A small model asked for a catch-up sometimes copies the transcript instead of summing
    it up; a copied line is no summary, and the key moments under a catch-up already give
    its window's lines word for word.
    """
    for opening in _LINE_OPENING.finditer(text):
        rest = text[opening.end() :].split("\n", 1)[0]
        words = [w.lower() for w in _words(rest)][:COPIED_WORDS]
        if len(words) < COPIED_WORDS:
            continue
        run = f" {' '.join(words)} "
        if any(run in _spoken_words(line.text) for line in lines):
            return opening.start()
    return None


@cache
def _spoken_words(text: str) -> str:
    """A line's words, lower-cased, one space apart and around ("Right, the" -> " right the ")."""
    return f" {' '.join(_words(text.lower()))} "


def cite(answer: str, lines: list[Line], question: str = "") -> str:
    """``answer`` to ``question``, each sentence ending in the [mm:ss] of the line it rests on.

    A sentence that says again what an earlier one said (a small model repeats itself) is
    dropped.
    """
    spoken = [line for line in lines if not line.sound]
    if not spoken or answer.strip() == NOT_DISCUSSED:
        return answer
    out = []
    said: list[set[str]] = []  # the content words of each sentence kept
    for row in answer.splitlines():
        bare = _CITATION.sub("", row).lstrip()  # a time the model wrote first goes
        pieces = []
        for match in _SENTENCE.finditer(bare):
            sentence = match.group(0)
            words = sentence.strip(" " + BULLET_MARKS).strip()
            if not _says_something(words):
                pieces.append(sentence)
                continue
            content = content_words(words)
            if content and any(len(content & b) >= REPEATS * len(content) for b in said):
                continue
            said.append(content)
            scores = similarities(words, spoken) + _shared_words(words, spoken, question)
            order = np.argsort(-scores)
            if scores[order[0]] < CITE_FROM:
                pieces.append(sentence)
                continue
            # a close second (the sentence joins two lines) is cited too, in time order
            chosen = [i for i in order[:2] if scores[i] >= ALSO_CITE * scores[order[0]]]
            stamp = "".join(f" [{format_clock(spoken[i].start)}]" for i in sorted(chosen))
            body = sentence.rstrip()
            end = len(body.rstrip(".!?"))
            pieces.append(body[:end] + stamp + body[end:] + sentence[len(body) :])
        if pieces or not bare.strip():  # a row that only repeated others goes
            out.append("".join(pieces))
    return "\n".join(out)
