"""The LocalAgreement-2 commit policy on plain word lists (no model)."""

import itertools

from roomtone.streaming.committer import CaptionCommitter, word_key
from roomtone.streaming.records import Word

from .conftest import timed


def words(text: str, start: float = 0.0, step: float = 0.3) -> list[Word]:
    return [Word(t, start + i * step, start + i * step + 0.25) for i, t in enumerate(text.split())]


def test_nothing_is_final_after_one_hypothesis():
    c = CaptionCommitter()
    assert c.insert(words("the launch is")) == []
    assert [w.text for w in c.tentative] == ["the", "launch", "is"]


def test_agreed_prefix_becomes_final_and_the_rest_stays_partial():
    c = CaptionCommitter()
    c.insert(words("the launch is"))
    done = c.insert(words("the launch was delayed"))
    assert [w.text for w in done] == ["the", "launch"]
    assert [w.text for w in c.tentative] == ["was", "delayed"]
    assert c.committed_end == done[-1].end


def test_agreement_ignores_case_and_punctuation_but_keeps_the_newer_spelling():
    c = CaptionCommitter()
    c.insert(words("hello bob"))
    done = c.insert(words("Hello, Bob. Thanks"))
    assert [w.text for w in done] == ["Hello,", "Bob."]


def test_words_near_the_newest_audio_wait_even_when_agreed():
    c = CaptionCommitter()
    c.insert(words("we ship on friday"))
    hyp = words("we ship on friday")
    done = c.insert(hyp, horizon=hyp[2].end - 0.01)
    assert [w.text for w in done] == ["we", "ship"]
    assert [w.text for w in c.tentative] == ["on", "friday"]


def test_a_changed_first_word_blocks_everything_after_it():
    c = CaptionCommitter()
    c.insert(words("young goal rotation"))
    assert c.insert(words("on call rotation")) == []


def test_flush_makes_the_last_hypothesis_final():
    c = CaptionCommitter()
    c.insert(words("see you"))
    done = c.flush(words("see you tomorrow"))
    assert [w.text for w in done] == ["see", "you", "tomorrow"]
    assert c.tentative == []
    assert c.flush() == []


def test_commit_until_forces_old_pending_words():
    c = CaptionCommitter()
    c.insert(words("a b c d"))
    forced = c.commit_until(0.6)
    assert [w.text for w in forced] == ["a", "b"]
    assert [w.text for w in c.tentative] == ["c", "d"]


def test_punctuation_only_tokens_are_not_words():
    assert word_key("...") == ""
    c = CaptionCommitter()
    assert c.flush(words("ok ...")) == [words("ok ...")[0]]


def test_words_aligned_before_the_final_text_are_moved_after_it():
    committer = CaptionCommitter()
    committer.flush(timed("at:20.3:20.5 640:20.5:21.0 login:22.1:22.4"))
    collapsed = timed("service:20.7:20.7 started:20.7:20.7 errors:23.1:23.5")
    moved = committer.flush(collapsed)
    assert [w.text for w in moved] == ["service", "started", "errors"]
    assert [w.start for w in moved] == [22.4, 22.4, 23.1]
    assert all(a.end <= b.start for a, b in itertools.pairwise(moved))
