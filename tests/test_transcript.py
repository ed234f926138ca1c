"""Transcript lines, speaker names, citations, catch-up windows, action-item rows (no model)."""

import pytest

from roomtone.assistant.actions import ActionItem, parse_action_items, same_task
from roomtone.assistant.ask import parse_since
from roomtone.assistant.catch_up import catch_up_start, catch_up_topic, plain_catch_up
from roomtone.assistant.clauses import clauses, closest_clause, task_named_by_verb
from roomtone.assistant.memory import cited_lines
from roomtone.assistant.salience import COMMITMENT, key_moments
from roomtone.assistant.speaker_names import names_from_address
from roomtone.assistant.transcript import Line, ToneIndex, Transcript
from roomtone.assistant.written_numbers import written_numbers


def caption(cid, start, end, text, speaker="S1"):
    words = text.split()
    step = (end - start) / len(words)
    return {
        "type": "caption",
        "id": cid,
        "final": True,
        "start": start,
        "end": end,
        "text": text,
        "speaker": speaker,
        "words": [
            {"text": w, "start": start + i * step, "end": start + (i + 1) * step}
            for i, w in enumerate(words)
        ],
    }


@pytest.fixture
def meeting() -> Transcript:
    t = Transcript()
    for event in [
        caption("c1", 1.0, 3.0, "Thanks for joining, everyone."),
        caption("c2", 3.2, 5.0, "Let's start with the launch."),
        caption("c3", 6.0, 9.0, "Bob, can you fix the bugs by Friday?", "S2"),
        {
            "type": "sound",
            "id": "s1",
            "label": "telephone",
            "caption": "[phone ringing]",
            "start": 9.5,
            "end": 12.0,
            "final": True,
        },
        caption("c4", 12.5, 15.0, "Yes, I will fix them by Friday.", "S3"),
        {
            "type": "emotion",
            "turn": "t4",
            "speaker": "S3",
            "start": 12.4,
            "end": 15.1,
            "label": "excited",
            "arousal": 0.8,
            "valence": 0.5,
        },
        {"type": "name", "speaker": "S3", "name": "Bob"},
    ]:
        t.add(event)
    return t


def test_lines_join_one_speakers_captions_and_show_tone_sounds_and_names(meeting):
    rendered = [line.render() for line in meeting.lines()]
    assert rendered == [
        "[00:01] S1: Thanks for joining, everyone. Let's start with the launch.",
        "[00:06] S2: Bob, can you fix the bugs by Friday?",
        "[00:09] [phone ringing]",
        "[00:12] Bob (excited): Yes, I will fix them by Friday.",
    ]


def test_a_line_takes_the_earliest_tone_that_overlaps_it_whatever_their_lengths():
    tones = ToneIndex(
        [
            {"start": 0.0, "end": 40.0, "label": "calm"},  # long: overlaps lines far after it
            {"start": 41.0, "end": 43.0, "label": "neutral"},  # not shown
            {"start": 44.0, "end": 46.0, "label": "excited"},
            {"start": 45.0, "end": 47.0, "label": "raised voice"},
        ]
    )
    assert tones.during(39.0, 41.0) == "calm"
    assert tones.during(40.0, 44.0) is None  # touching is not overlapping
    assert tones.during(41.5, 42.5) is None  # only a neutral tone there
    assert tones.during(45.5, 50.0) == "excited"
    assert tones.during(46.5, 50.0) == "raised voice"
    assert ToneIndex([]).during(0.0, 1.0) is None


def test_a_revised_caption_replaces_the_earlier_final(meeting):
    assert "fix the bugs" in meeting.lines()[1].text  # the lines are built (and kept)
    before = meeting.copy()
    meeting.add(caption("c3", 6.0, 9.0, "Bob, can you fix the box by Friday?", "S2"))
    assert "fix the box" in meeting.lines()[1].text
    assert "fix the bugs" in before.lines()[1].text  # a copy keeps its own lines


def test_a_caption_running_across_a_change_of_speaker_is_split_at_the_turn():
    t = Transcript()
    t.add(caption("c1", 0.0, 4.0, "Can you do it? Yes I can", "S1"))
    t.add({"type": "speaker", "id": "t1", "speaker": "S1", "start": 0.0, "end": 2.3})
    t.add({"type": "speaker", "id": "t2", "speaker": "S2", "start": 2.4, "end": 4.0})
    assert [line.render() for line in t.lines()] == [
        "[00:00] S1: Can you do it?",
        "[00:02] S2: Yes I can",
    ]


def test_speakers_are_named_from_introductions_and_from_being_addressed():
    lines = [
        ("S1", "Hi everyone, I'm Kevin, I'll run this meeting."),
        ("S2", "Thanks, Kevin. Laura from QA here."),
        ("S1", "Malik, can you apply the fix tonight?"),
        ("S3", "Sure, I will apply it tonight."),
        ("S2", "On Friday, we publish it."),  # a weekday is not a name
    ]
    assert names_from_address(lines) == {"S1": "Kevin", "S2": "Laura", "S3": "Malik"}


def test_the_one_speaker_left_has_the_one_name_introduced_and_left():
    lines = [
        ("S1", "I'm Kevin. Laura is here from QA and Malik from the database team."),
        ("S2", "Laura from QA here. Let's start."),
        ("S3", "The root cause was on our side."),
        ("S1", "I asked Nina from support for the ticket count."),  # not an introduction
    ]
    assert names_from_address(lines) == {"S1": "Kevin", "S2": "Laura", "S3": "Malik"}
    two_left = [*lines, ("S4", "Sorry I'm late.")]
    assert "S3" not in names_from_address(two_left)  # two speakers, one name: no guess


def test_a_name_someone_set_wins_over_a_name_the_meeting_reveals(meeting):
    meeting.add({"type": "name", "speaker": "S3", "name": "Robert"})
    assert meeting.speaker_names()["S3"] == "Robert"
    assert meeting.lines()[-1].speaker == "Robert"


@pytest.mark.parametrize(
    ("question", "start"),
    [
        ("What did I miss since 10:40?", 640.0),
        ("what happened in the last 5 minutes?", 900.0),
        ("Anything in the past hour?", 0.0),
        ("Who will fix the bugs?", None),
        ("What did I miss?", 0.0),
        ("Can you sum up the meeting so far?", 0.0),
    ],
)
def test_catch_up_questions_give_where_their_window_starts(question, start):
    assert catch_up_start(question, now=1200.0) == start


@pytest.mark.parametrize(
    ("question", "minutes"),
    [
        ("What did I miss in the last forty five minutes?", 45),  # not "five minutes"
        ("Anything in the past twelve minutes?", 12),
        ("What happened in the last two hours?", 120),  # three and under stay words
        ("Catch me up on the last five minutes, please", 5),
        ("What happened in the last forty five seconds?", 0.75),  # looked away for a moment
    ],
)
def test_a_window_said_in_words_is_read_as_its_number(question, minutes):
    """The memory reads questions with their numbers in digits, as the captions write them."""
    assert catch_up_start(written_numbers(question), now=9000.0) == 9000.0 - 60 * minutes


@pytest.mark.parametrize(
    ("question", "plain"),
    [
        ("What did I miss since 10:40?", True),
        ("what happened in the last 5 minutes?", True),
        ("Catch me up on the last 5 minutes, please", True),
        ("I just joined. What did I miss since 1:30?", False),  # said to the model as asked
        ("What was decided since 10:40?", False),
        ("What did I miss?", False),  # no window
    ],
)
def test_a_catch_up_that_asks_only_for_its_window_is_plain(question, plain):
    assert plain_catch_up(question) is plain


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What did I miss about the cloud costs?", "the cloud costs"),
        ("Catch me up on the hiring plan", "the hiring plan"),
        ("What was decided about the contractors?", None),  # a question, not a catch-up
        ("What did I miss since 10:40?", None),
        ("What was said about it?", None),
    ],
)
def test_a_catch_up_about_a_topic_names_its_topic(question, topic):
    assert catch_up_topic(question) == topic


def test_one_task_said_twice_is_one_item_but_two_due_dates_are_two_tasks():
    review = ActionItem("Bob", "review crash reports", "tomorrow morning", 31.0)
    fix = ActionItem("Bob", "fix crash reports", "Friday afternoon", 31.0)
    assert not same_task(review, fix)  # one line, two tasks: both kept
    again = ActionItem("Bob", "review the crash reports", "tomorrow", 40.0)
    assert same_task(review, again)
    assert not same_task(review, ActionItem("Priya", "review crash reports", "", 31.0))


def test_citations_point_at_real_lines_and_invented_times_are_dropped(meeting):
    spans = cited_lines(
        "Bob will fix the bugs by Friday [00:12], as asked at [0:07]. See [45:00].", meeting.lines()
    )
    assert spans == [(12.5, 15.0), (6.0, 9.0)]


def test_action_rows_resolve_pronouns_split_deadlines_and_drop_ownerless_rows():
    asking = Line(27.0, 30.0, "Bob, can you fix those bugs before Friday?", "Alice")
    rows = "you | fix the three bugs | Friday\nsomeone | test it | none\nno"
    assert [i.to_json() for i in parse_action_items(rows, asking, answerer="S2")] == [
        {"owner": "Bob", "task": "fix the three bugs", "due": "Friday", "said_at": 27.0}
    ]
    taking = Line(31.0, 36.0, "I'll ask Priya to review the crash reports.", "Bob")
    rows = "Priya | review the crash reports by tomorrow morning | none\nI | ask Priya | none"
    items = parse_action_items(rows, taking)
    assert [(i.owner, i.task, i.due) for i in items] == [
        ("Priya", "review the crash reports", "tomorrow morning"),
        ("Bob", "ask Priya", ""),
    ]


def test_an_action_row_takes_owner_and_due_date_from_the_clause_its_task_is_in():
    line = Line(
        97.0,
        104.0,
        "The proposal comes first. I will send you the onboarding checklist tomorrow morning. "
        "Ethan, can you book the flights by the 15th? You should have access by Wednesday.",
        "Julia",
    )
    rows = (
        "Ivan | onboarding checklist | Wednesday\n"  # the model's 'you', the next sentence's date
        "Julia | book the flights | the 15th\n"
        "Ivan | review the budget | Friday"  # a task this line does not say
    )
    assert [(i.owner, i.task, i.due) for i in parse_action_items(rows, line)] == [
        ("Julia", "onboarding checklist", "tomorrow morning"),
        ("Ethan", "book the flights", "the 15th"),
    ]
    rotation = Line(
        144.0,
        152.0,
        "Then the rotation is Malik, Sam and Laura. I will publish the schedule by Friday.",
        "Kevin",
    )
    rows = "Malik | holiday rotation | Friday"  # no clause says the task; its due date is in one
    assert [(i.owner, i.task, i.due) for i in parse_action_items(rows, rotation)] == [
        ("Kevin", "publish the schedule", "Friday")
    ]


def test_a_due_date_the_line_does_not_say_is_left_for_the_line_that_says_it():
    # dev_m04: the model gave the ask at 01:42 the date Laura only gave at 01:53
    asked = Line(102.6, 112.0, "Laura, can you add a failover test to the regression suite?", "S1")
    rows = "Laura | add a failover test to the regression suite | March 31st [01:53]"
    assert [(i.owner, i.due) for i in parse_action_items(rows, asked)] == [("Laura", "")]
    taken = Line(
        113.4, 120.0, "Yes, I'll have the failover test in the suite by March 31st.", "Laura"
    )
    rows = "Laura | have the failover test in the suite | March 31st"
    assert [(i.owner, i.due) for i in parse_action_items(rows, taken)] == [("Laura", "March 31st")]


def test_a_clause_the_model_left_out_is_a_task_where_it_names_an_owner_and_a_date():
    line = Line(
        148.8,
        160.0,
        "Good, that's enough for the hiring fair. I'll post the five job descriptions by next "
        "Monday. Ethan, can you book the flights to Berlin by the 15th?",
        "Farah",
    )
    rows = "Farah | post the five job descriptions | next Monday [02:28]"
    assert [(i.owner, i.task, i.due) for i in parse_action_items(rows, line)] == [
        ("Farah", "post the five job descriptions", "next Monday"),
        ("Ethan", "book the flights to Berlin", "the 15th"),
    ]
    assert parse_action_items("no", line) == []  # where the model sees no task, none


def test_one_row_for_two_tasks_of_one_owner_gives_both_with_their_own_due_dates():
    line = Line(  # dev_m04 as a live run heard it
        80.88,
        87.5,
        "OK, I will apply the new limit tonight during the maintenance window, and I'll "
        "write the pipeline check by Thursday.",
        "Malik",
    )
    rows = "Malik | apply the new limit to both servers | Thursday"  # the two run together
    assert [(i.owner, i.task, i.due) for i in parse_action_items(rows, line)] == [
        ("Malik", "apply the new limit to both servers", "tonight"),
        ("Malik", "write the pipeline check", "Thursday"),
    ]


def test_a_task_in_the_line_counts_where_the_model_answers_with_the_line_before():
    line = Line(
        97.94,
        105.0,
        "Not yet, the proposal comes first, and I will send you the onboarding checklist "
        "tomorrow morning, so you can track the remaining steps.",
        "Julia",
    )
    rows = "Ivan | prepare slides | none"  # dev_m03: the verdict on the line before, again
    assert [(i.owner, i.task, i.due) for i in parse_action_items(rows, line)] == [
        ("Julia", "send you the onboarding checklist", "tomorrow morning"),
    ]
    cut = Line(34.34, 38.24, "I'll look it up and tell you before we", "Dana")  # dev_m02
    assert parse_action_items("George | share the budget | none", cut) == []  # no date said


def test_a_clause_says_its_task_with_its_owners_name():
    line = Line(
        148.0,
        160.0,
        "Good. I'll post the job descriptions by next Monday, and "
        "Ethan, can you book the flights to Berlin by the 15th?",
        "Farah",
    )
    assert [c.as_said_of_owner() for c in clauses(line)] == [
        "Farah will post the job descriptions by next Monday",
        "Ethan was asked to book the flights to Berlin by the 15th",
    ]


def test_a_task_someone_else_reports_is_the_named_person_s():
    line = Line(138.8, 143.8, "Relax, Kevin, Sam already volunteered for the 27th.", "Malik")
    assert [(c.owner, c.as_said_of_owner()) for c in clauses(line)] == [
        ("Sam", "Sam volunteered for the 27th")
    ]
    both = Line(0.0, 5.0, "I'll ask Priya to review it, and Sam agreed to book the room.", "Ann")
    assert [c.as_said_of_owner() for c in clauses(both)][1:] == [
        "Priya was asked to review it",
        "Sam agreed to book the room",
    ]
    offered = Line(0.0, 5.0, "Priya has offered to review the reports by Monday.", "Dana")
    assert [(c.owner, c.dated()) for c in clauses(offered)] == [
        ("Priya", ("review the reports", "Monday"))
    ]
    for nobody in ("Nobody volunteered for the 27th.", "We agreed to ship it on Friday."):
        assert clauses(Line(0.0, 1.0, nobody, "Kevin")) == []


def test_a_question_about_who_took_on_a_task_finds_the_clause_that_says_it():
    lines = [
        Line(30.0, 36.0, "Still, I will escalate it to Martin in IT today.", "Julia"),
        Line(40.0, 45.0, "Sure. I'll have the failover test in the suite by March 31st.", "Laura"),
        Line(50.0, 55.0, "The budget for Berlin is eighteen thousand euros.", "Dana"),
    ]
    found = closest_clause("Who agreed to add the failover test?", lines, at_least=0.5)
    assert found is not None and (found.owner, found.line.start) == ("Laura", 40.0)
    assert closest_clause("Who was late to the meeting?", lines, at_least=0.5) is None
    again = Line(70.0, 75.0, lines[1].text, "Laura")  # said again, the same words
    found = closest_clause("Who agreed to add the failover test?", [*lines, again], 0.5)
    assert found is not None and found.line == again  # the latest: a folded one costs more


@pytest.mark.parametrize(("text", "seconds"), [("10:40", 640), ("1:02:03", 3723), ("95", 95.0)])
def test_since_takes_clock_times(text, seconds):
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["ten forty", "-5", "10:4x"])
def test_a_bad_since_is_a_clear_error(text):
    with pytest.raises(ValueError, match="since"):
        parse_since(text)


def test_key_moments_prefer_decisions_tasks_numbers_and_dates():
    lines = [
        Line(1.0, 3.0, "Good morning everyone.", "Alice"),
        Line(4.0, 8.0, "So the decision is we keep the launch on March 22nd.", "Alice"),
        Line(9.0, 12.0, "That sounds fine to me.", "Bob"),
        Line(13.0, 15.0, "[phone ringing]", sound=True),
        Line(16.0, 20.0, "I will send the press release by Monday.", "Carol"),
    ]
    assert [m.start for m in key_moments(lines, top=2)] == [4.0, 16.0]


def test_a_task_told_without_a_name_is_the_task_of_whoever_answers():
    told = Line(
        59.0,
        64.0,
        "Exactly. Please open a pull request by next Friday and ask Sophia to review it.",
        "Julia",
    )  # dev_m03, as heard: the model gives the task to Sophia alone
    rows = "Sophia | review the invoice export bug | none"
    items = parse_action_items(rows, told, answerer="Ivan")
    assert ("Ivan", "open a pull request", "next Friday") in [
        (i.owner, i.task, i.due) for i in items
    ]
    assert [(c.owner, c.task) for c in clauses(told, "Ivan")] == [
        ("Ivan", "open a pull request by next Friday and ask Sophia to"),
        ("Sophia", "review it"),
    ]
    after_a_comma = Line(
        88.0, 92.0, "That sounds perfect, send me a proposal by the end of the month.", "Julia"
    )
    assert [(c.owner, c.words) for c in clauses(after_a_comma, "Ivan")] == [
        ("Ivan", "send me a proposal by the end of the month")
    ]
    named = Line(
        119.6, 127.0, "George, put together a business case for the sales engineer.", "Dana"
    )
    assert [c.owner for c in clauses(named, "Farah")] == ["George"]  # the name said wins
    assert clauses(Line(0.0, 1.0, "Okay, send it to everyone.", "Dana")) == []  # told nobody
    assert COMMITMENT.search(after_a_comma.text)


def test_a_who_question_finds_the_task_by_its_verb_and_what_it_stands_for():
    """dev_m03 as heard: "escalate it" says none of the question's other words itself."""
    lines = [
        Line(
            5.4,
            14.0,
            "Pretty well. Thanks. I finished the security training and set up my laptop, "
            "but I still don't have access to the staging database.",
            "Ivan",
        ),
        Line(14.5, 18.0, "That has been blocking a few people. Who did you ask?", "Julia"),
        Line(18.8, 24.0, "I filed a ticket with it last Tuesday, ticket 4571.", "Ivan"),
        Line(24.7, 27.8, "Last Tuesday, that's a whole week. That is really not okay.", "Julia"),
        Line(28.2, 32.0, "It's fine, honestly. I have been reading the billing code.", "Ivan"),
        Line(
            32.6,
            37.2,
            "Still, I will escalate it to Martin and IT today. You should have it by Wednesday.",
            "Julia",
        ),
        Line(80.0, 83.0, "Do I need to prepare slides?", "Ivan"),
        Line(97.7, 103.0, "I will send you the onboarding checklist tomorrow morning.", "Julia"),
    ]
    question = "Who agreed to escalate the database access ticket?"
    found = task_named_by_verb(question, lines)
    assert found is not None and (found.owner, found.line.start) == ("Julia", 32.6)
    assert found.words == "I will escalate the database access ticket to Martin and IT today"
    assert task_named_by_verb("Who agreed to escalate the budget review?", lines) is None
    assert task_named_by_verb("Who will send the slides?", lines) is None  # not "send you"
    checklist = task_named_by_verb("Who is sending the checklist?", lines)
    assert checklist is not None and checklist.line.start == 97.7
    assert task_named_by_verb("What was escalated?", lines) is None
