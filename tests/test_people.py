"""The meeting's people, as given: names spelled their way, a voice left over named (no model)."""

from pathlib import Path

import pytest

from roomtone.assistant.ask import session_transcript
from roomtone.assistant.people import parse_people, respell_names
from roomtone.assistant.store import SessionStore
from roomtone.cli import main

from .conftest import replayed, stored

DATA = Path(__file__).parent / "data"
# final captions, speakers and tones of --fast replays (the assistant benchmark's logs of
# 2026-11-29): in dev_m04 Whisper wrote Malik as "Malek"; in dev_m02 it never heard Farah's name
POSTMORTEM = DATA / "dev_m04_replay_events.jsonl"
BUDGET = DATA / "dev_m02_replay_events.jsonl"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Laura and Malek from the database team.", "Laura and Malik from the database team."),
        ("Malek, can you apply it tonight?", "Malik, can you apply it tonight?"),
        ("the rotation is Malek, Sam, and Nora", "the rotation is Malik, Sam, and Nora"),
        ("Data is ready, said Dane.", "Data is ready, said Dana."),  # a word, then a name
        ("Dane said so.", "Dane said so."),  # a sentence's first word may be any word
        ("Thanks, Georgia's team", "Thanks, Georgia's team"),  # two letters off a short name
        ("Then Mila agreed", "Then Mila agreed"),  # one letter off two of them: no guess
        ("we asked Nina", "we asked Nina"),  # someone not in the list stays as heard
    ],
)
def test_heard_names_close_to_one_of_the_people_are_spelled_their_way(text, expected):
    people = ["Dana", "George", "Malik", "Mira", "Mina", "Laura"]
    assert respell_names(text, people) == expected


def test_people_are_parsed_from_a_list_and_bad_lists_are_clear_errors():
    people = parse_people(" Kevin,Laura ;  Malik Haddad, Kevin ")
    assert people == ["Kevin", "Laura", "Malik Haddad"]
    for bad in ("", " , ;", "Kevin, 42", "Kevin, <script>"):
        with pytest.raises(ValueError):
            parse_people(bad)


def test_a_name_whisper_misspelled_is_written_as_given_everywhere():
    heard = replayed(POSTMORTEM)
    assert heard.speaker_names()["S4"] == "Malek"  # as Whisper wrote Kevin's introduction
    heard.add({"type": "people", "names": ["Kevin", "Laura", "Malik"]})  # told while it runs
    assert heard.speaker_names()["S4"] == "Malik"
    given = replayed(POSTMORTEM, ["Kevin", "Laura", "Malik"])
    assert given.speaker_names() == {"S2": "Kevin", "S3": "Laura", "S4": "Malik"}
    text = "\n".join(line.render() for line in given.lines())
    assert "Malek" not in text and text.count("Malik") >= 10, text


def test_the_voice_nobody_named_gets_the_name_nobody_has():
    assert "S4" not in replayed(BUDGET).speaker_names()  # Farah's name was never heard
    given = replayed(BUDGET, ["Dana", "Ethan", "Farah", "George"])
    names = given.speaker_names()
    assert names["S4"] == "Farah", names
    jobs = next(line for line in given.lines() if "job descriptions" in line.text)
    assert jobs.speaker == "Farah"  # "I'll post the five job descriptions by next Monday"


def test_people_set_after_the_meeting_are_kept_and_bad_lists_leave_the_session_alone(
    tmp_path, capsys
):
    db = tmp_path / "s.db"
    session_id = stored(POSTMORTEM, db, "post-mortem")
    with SessionStore(db) as store:
        before = store.last_seq(session_id)
    with pytest.raises(SystemExit) as exit_info:
        main(["people", str(db), "Kevin, 42"])
    assert exit_info.value.code == 2 and "not a name" in capsys.readouterr().err
    with SessionStore(db) as store:
        assert store.last_seq(session_id) == before
    assert main(["people", str(db), "Kevin, Laura, Malik"]) == 0
    with SessionStore(db) as store:
        transcript = session_transcript(store, session_id)
    assert transcript.speaker_names()["S4"] == "Malik"
