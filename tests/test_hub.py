"""The event hub: late joiners get the meeting so far, slow viewers never hold others up."""

import asyncio
import json

import pytest

from roomtone.assistant.session import SessionRecorder
from roomtone.assistant.store import SessionStore
from roomtone.ui.hub import VIEWER_QUEUE, EventHub, TooManyViewersError


@pytest.fixture
def stored(tmp_path):
    """A session store, its recorder and a hub placed after it, as the pipeline wires them."""
    store = SessionStore(tmp_path / "hub.db")
    sid = store.create_session("hub test", "test")
    recorder, hub = SessionRecorder(store, sid), EventHub(store, sid)

    def hear(event: dict) -> None:
        recorder(event)
        hub(event)

    yield hub, hear, store, sid
    store.close()


def caption(cid: str, text: str, final: bool, emitted: float = 1.0) -> dict:
    words = [{"text": w, "start": 0.0, "end": 0.5} for w in text.split()]
    return {"type": "caption", "id": cid, "final": final, "start": 0.0, "end": 0.5,
            "text": text, "words": words, "emitted": emitted}  # fmt: skip


def test_history_keeps_the_latest_version_of_each_caption_in_news_order(stored):
    hub, hear, _, _ = stored
    hear(caption("c1", "the lau", final=False))
    hear({"type": "sound", "id": "s1", "caption": "[bell]", "start": 0.2, "end": 0.4})
    hear(caption("c1", "the launch", final=True))
    hear({"type": "emotion", "turn": "t1", "label": "neutral"})
    hear({"type": "name", "speaker": "S1", "name": "Alice"})
    hear({"type": "emotion", "turn": "t1", "label": "raised voice"})
    hear({"type": "name", "speaker": "S1", "name": "Alicia"})
    history = [json.loads(e) for e in hub.history(hub.join())]
    assert [e.get("text") or e.get("caption") or e.get("name") or e["label"] for e in history] == [
        "[bell]", "the launch", "Alice", "raised voice", "Alicia"]  # fmt: skip
    assert hub.clock_origin is not None


def test_a_late_joiner_starts_from_the_past_then_gets_news(stored):
    hub, hear, store, sid = stored

    async def scenario() -> None:
        store.append(sid, caption("c1", "earlier words", final=True))  # before the hub was live
        viewer = hub.join()
        hear(caption("c2", "new words", final=False, emitted=3.0))
        history = [json.loads(e) for e in hub.history(viewer)]
        assert [e["text"] for e in history] == ["earlier words"]  # news is not history
        first = await viewer.queue.get()
        assert first == {"type": "clock", "origin": hub.clock_origin}
        assert (await viewer.queue.get())["text"] == "new words"
        assert [json.loads(e)["text"] for e in hub.history(hub.join())] == [
            "earlier words", "new words"]  # fmt: skip
        hub.leave(viewer)
        assert hub.viewers == 1

    asyncio.run(scenario())


def test_a_slow_viewer_is_dropped_and_the_others_keep_every_event(stored):
    hub = stored[0]

    async def scenario() -> None:
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


def test_the_hub_refuses_viewers_past_its_limit(tmp_path):
    store = SessionStore(tmp_path / "full.db")
    hub = EventHub(store, store.create_session("full", "test"), max_viewers=2)
    hub.join(), hub.join()
    with pytest.raises(TooManyViewersError, match="2 viewers"):
        hub.join()
