"""Guards against Whisper decoder loops, on word lists."""

from roomtone.plugins.whisper_captioner import cut_loops
from roomtone.streaming.records import Word


def words(text: str) -> list[Word]:
    return [Word(t, i * 0.3, i * 0.3 + 0.2) for i, t in enumerate(text.split())]


def texts(ws: list[Word]) -> str:
    return " ".join(w.text for w in ws)


def test_clean_text_passes_untouched():
    ws = words("that gives me time to learn the alerting tools")
    assert cut_loops(ws, "") == ws


def test_a_phrase_said_three_times_running_is_cut_to_one():
    assert (
        texts(cut_loops(words("pretty well pretty well pretty well pretty"), "")) == "pretty well"
    )


def test_repeating_the_forced_prefix_is_cut():
    prefix = "Thanks Alice, Engineering finished the payment integration"
    hyp = words("last week. Thanks Alice, Engineering finished the payment integration last")
    assert texts(cut_loops(hyp, prefix)) == "last week."


def test_a_hypothesis_that_echoes_its_own_phrase_is_cut_at_the_echo():
    hyp = words("as long as the bugs are fixed as long as the bugs")
    assert texts(cut_loops(hyp, "")) == "as long as the bugs are fixed"


def test_a_real_double_word_survives():
    hyp = words("it is very very good")
    assert cut_loops(hyp, "") == hyp
