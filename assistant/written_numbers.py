"""Numbers in a question written as the captions write them: "the twenty seventh" -> "the 27th".

Whisper writes numbers in digits ("the 27th", "47 minutes", "1000"); people ask in words.
Read in one form, a question finds the lines that say its numbers (the off-topic gate,
citations, recall), its window ("the last forty five minutes"), and the model reads
the same form as in the meeting. text2num reads spelled-out numbers; counts of three
and under stand alone as words ("the last two hours", "one more topic").
"""

from __future__ import annotations

from text_to_num import alpha2digit


def written_numbers(text: str) -> str:
    """``text`` with its spelled-out English numbers and ordinals in digits."""
    return alpha2digit(text, "en")
