"""The event hub: late joiners get the meeting so far, slow viewers never hold others up."""

import asyncio

import pytest

from roomtone.ui.hub import VIEWER_QUEUE, EventHub, TooManyViewersError


def caption(cid: str, text: str, final: bool, emitted: float = 1.0) -> dict:
    words = [{"text": w, "start": 0.0, "end": 0.5} for w in text.split()]
    return {"type": "caption", "id": cid, "final": final, "start": 0.0, "end": 0.5,
            "text": text, "words": words, "emitted": emitted}  # fmt: skip


def test_history_keeps_the_latest_version_of_each_caption_in_news_order():
    hub = EventHub()
    hub(caption("c1", "the lau", final=False))
    hub({"type": "sound", "id": "s1", "caption": "[bell]", "start": 0.2, "end": 0.4})
    hub(caption("c1", "the launch", final=True))
    hub({"type": "name", "speaker": "S1", "name": "Alice"})
    hub({"type": "name", "speaker": "S1", "name": "Alicia"})
    history = hub.history()
    assert [e.get("text") or e.get("caption") or e.get("name") for e in history] == [
        "[bell]", "the launch", "Alice", "Alicia"]  # fmt: skip
    assert hub.clock_origin is not None


def test_a_late_joiner_starts_from_the_past_then_gets_news():
    async def scenario() -> None:
        hub = EventHub([caption("c1", "earlier words", final=True)])
        assert hub.history()[0]["text"] == "earlier words"
        viewer = hub.join()
        hub(caption("c2", "new words", final=False, emitted=3.0))
        first = await viewer.queue.get()
        assert first == {"type": "clock", "origin": hub.clock_origin}
        assert (await viewer.queue.get())["text"] == "new words"
        hub.leave(viewer)
        assert hub.viewers == 0

    asyncio.run(scenario())


def test_a_slow_viewer_is_dropped_and_the_others_keep_every_event():
    async def scenario() -> None:
        hub = EventHub()
        slow, quick = hub.join(), hub.join()
        got = []
        for i in range(VIEWER_QUEUE + 5):
            hub(caption(f"c{i}", "word", final=True))
            got.append(quick.queue.get_nowait())
        while not quick.queue.empty():
            got.append(quick.queue.get_nowait())
        assert slow.dropped and await slow.queue.get() is None  # its sender hangs up
        assert hub.viewers == 1 and not quick.dropped
        assert len([e for e in got if e["type"] == "caption"]) == VIEWER_QUEUE + 5

    asyncio.run(scenario())


def test_the_hub_refuses_viewers_past_its_limit():
    hub = EventHub(max_viewers=2)
    hub.join(), hub.join()
    with pytest.raises(TooManyViewersError, match="2 viewers"):
        hub.join()
