"""Fast checks of the clause a "who" question names by its number, on dev_m04's captions."""

from __future__ import annotations

from pathlib import Path

import pytest

from roomtone.assistant.number_mentions import MOST_LINES, clause_saying_its_numbers, numbers_said

from .conftest import replayed

# the final events of a --realtime replay of dev_m04 (its second pass landed as it does live)
REALTIME_EVENTS = Path(__file__).parent / "data" / "dev_m04_realtime_events.jsonl"


@pytest.fixture(scope="module")
def lines():
    return replayed(REALTIME_EVENTS).lines()


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Who is on call on the 27th?", {"27": "27th"}),
        ("What is the 18,000 for?", {"18000": "18,000"}),
        ("Was it 20% or 3.5 points?", {"20": "20", "3": "3"}),
        ("What did I miss since 1:03? And at 10:40?", {}),  # clock times are not numbers
        ("Who agreed to fix the bugs?", {}),
    ],
)
def test_a_number_is_read_by_its_value_and_a_clock_time_is_not_one(text, numbers):
    assert numbers_said(text) == numbers


def test_the_latest_clause_that_says_the_question_s_number_is_the_one_asked_about(lines):
    said = [line for line in lines if "27th" in line.text]
    assert len(said) == 2 and "nobody" in said[0].text and "volunteered" in said[1].text, said
    # "Relax, Kevin, Sam already volunteered for the 27th": Sam's, reported by Malik
    found = clause_saying_its_numbers("Who is on call on the 27th?", lines)
    assert found is not None and found.line == said[1], found
    assert found.as_said_of_owner() == "Sam volunteered for the 27th"
    # "It was down for 47 minutes" gives no one a task: a number no clause says names none
    assert clause_saying_its_numbers("Who said 47 minutes?", lines) is None


def test_no_clause_without_a_number_or_for_a_number_said_too_often(lines):
    assert clause_saying_its_numbers("Who is on call over the holidays?", lines) is None
    assert clause_saying_its_numbers("Who is on call on the 99th?", lines) is None
    twice = lines + lines  # the meeting said over again: the 27th in four lines
    assert len([ln for ln in twice if "27th" in ln.text]) > MOST_LINES
    assert clause_saying_its_numbers("Who is on call on the 27th?", twice) is None
