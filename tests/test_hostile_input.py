"""Hostile input, generated: the audio decoder, the PCM protocol, the SDP endpoint, the
page's WebSocket and the command line (650 cases with hypothesis).

Each case must end in a result or a clear error of the kind the interface promises,
never another exception or a hang, and the session on disk must keep what it held.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from pathlib import Path

import aiohttp
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomtone.assistant.store import SessionStore
from roomtone.cli import main
from roomtone.streaming.senders import SenderBusyError
from roomtone.streaming.sources import AudioInputError, decode_chunks
from roomtone.streaming.webrtc_source import OfferError, WebRTCAudioSource, parse_offer
from roomtone.streaming.ws_source import PcmConverter, ProtocolError, StreamFormat
from roomtone.ui.hub import EventHub
from roomtone.ui.web_server import MeetingView, WebServer

from .conftest import EVAL


def fuzz(cases: int) -> settings:
    """Reproducible cases, no per-case deadline (a real decoder or peer runs in each)."""
    return settings(
        max_examples=cases,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )


def real_audio_bytes(fmt: str) -> bytes:
    """One second of a real meeting, encoded as ``fmt``."""
    audio, rate = sf.read(EVAL / "dev_m03_onboarding.flac", frames=16000, start=48000)
    out = io.BytesIO()
    sf.write(out, audio, rate, format=fmt)
    return out.getvalue()


SEEDS = {fmt: real_audio_bytes(fmt) for fmt in ("WAV", "FLAC", "OGG")}


@st.composite
def damaged_audio(draw: st.DrawFn) -> bytes:
    """Real audio files, truncated, bit-flipped, spliced with junk, or pure junk."""
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.binary(min_size=0, max_size=4000))
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(0, 12))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[: cut if draw(st.booleans()) else len(data)]) + draw(st.binary(max_size=64))


@fuzz(150)
@given(damaged_audio())
def test_the_decoder_takes_damaged_audio(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("fuzz") / "input.audio"
    path.write_bytes(blob)
    try:
        for chunk in decode_chunks(path):
            assert chunk.dtype == np.int16 and chunk.ndim == 1
    except AudioInputError as exc:
        assert str(path) in str(exc)


@fuzz(100)
@given(
    header=st.one_of(
        st.text(max_size=80),
        st.fixed_dictionaries(
            {},
            optional={
                "sample_rate": st.one_of(st.integers(-10, 400_000), st.text(max_size=5)),
                "channels": st.one_of(st.integers(-2, 12), st.none()),
                "format": st.sampled_from(["s16le", "f32le", "u8", "", "S16LE"]),
            },
        ).map(json.dumps),
    ),
    payload=st.binary(max_size=3000),
)
def test_the_pcm_protocol_takes_any_header_and_payload(header, payload):
    try:
        converter = PcmConverter(StreamFormat.from_header(header))
        out = converter.convert(payload)
        assert out.dtype == np.int16
    except ProtocolError:
        pass


def real_offer() -> str:
    async def make() -> str:
        from aiortc import RTCConfiguration, RTCPeerConnection
        from aiortc.mediastreams import AudioStreamTrack

        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(AudioStreamTrack())
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    return asyncio.run(make())


OFFER = real_offer()


@st.composite
def mangled_offers(draw: st.DrawFn) -> object:
    """Real offers with lines dropped, swapped or garbled; and not offers at all."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.one_of(st.none(), st.integers(), st.text(max_size=40),
                              st.lists(st.text(max_size=5), max_size=3)))  # fmt: skip
    lines = OFFER.split("\r\n")
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "garble", "dup"]))
        if action == "drop":
            del lines[at]
        elif action == "garble":
            lines[at] = draw(st.text(max_size=60))
        else:
            lines.insert(at, lines[at])
        if not lines:
            lines = ["v=0"]
    offer_type = draw(st.sampled_from(["offer", "offer", "answer", 7]))
    return {"sdp": "\r\n".join(lines), "type": offer_type}


@fuzz(150)
@given(mangled_offers())
def test_the_offer_endpoint_takes_mangled_sdp(body):
    async def scenario() -> None:
        source = WebRTCAudioSource()
        with contextlib.suppress(OfferError):
            parse_offer(body)
        try:
            answer = await asyncio.wait_for(source.accept_offer(body), 20)
            assert answer["type"] == "answer" and answer["sdp"].startswith("v=0")
        except (OfferError, SenderBusyError):
            assert not source.sending, "a refused offer gives the microphone turn back"
        finally:
            await source.close()

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def stored_session(tmp_path_factory) -> tuple[Path, list[dict]]:
    db = tmp_path_factory.mktemp("hostile") / "s.db"
    events = [
        {"type": "speaker", "id": "t1", "speaker": "S1", "start": 0.0, "end": 2.0, "final": True},
        {"type": "caption", "id": "c1", "final": True, "start": 0.0, "end": 2.0,
         "text": "the budget is approved", "speaker": "S1",
         "words": [{"text": w, "start": 0.5 * i, "end": 0.5 * i + 0.4}
                   for i, w in enumerate(["the", "budget", "is", "approved"])]},
    ]  # fmt: skip
    with SessionStore(db) as store:
        sid = store.create_session("hostile", "test")
        for event in events:
            store.append(sid, event)
    return db, events


def ws_messages() -> st.SearchStrategy[str]:
    plain = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                      st.text(max_size=30))  # fmt: skip

    def nest(kids: st.SearchStrategy) -> st.SearchStrategy:
        return st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)

    values = st.recursive(plain, nest, max_leaves=8)
    shaped = st.fixed_dictionaries(
        {"type": st.sampled_from(["ask", "rename", "export", "", "hello"])},
        optional={"id": values, "question": values, "since": values, "speaker": values,
                  "name": values},
    )  # fmt: skip
    return st.one_of(st.text(max_size=200), values.map(json.dumps), shaped.map(json.dumps))


@fuzz(150)
@given(messages=st.lists(ws_messages(), min_size=1, max_size=4))
def test_the_websocket_takes_any_message_and_the_meeting_goes_on(stored_session, messages):
    db, events = stored_session

    async def scenario() -> None:
        with SessionStore(db) as store:
            sid = store.latest_session()
            view = MeetingView(EventHub(store, sid), store, sid, "hostile", live=True)
            server = WebServer(view, "127.0.0.1", 0)
            await server.start()
            try:
                async with (
                    aiohttp.ClientSession() as http,
                    http.ws_connect(server.url + "ws") as ws,
                ):
                    while (await ws.receive_json(timeout=5))["type"] != "caught_up":
                        pass
                    for message in messages:
                        await ws.send_str(message)
                    view.hub({**events[1], "id": "c-after", "text": "still here"})
                    while True:  # every reply is JSON; the news still arrives
                        reply = await ws.receive_json(timeout=5)
                        if reply.get("id") == "c-after":
                            break
                        assert reply["type"] in ("error", "answer", "name"), reply
                    assert not ws.closed
            finally:
                await server.stop()

    asyncio.run(scenario())
    with SessionStore(db) as store:
        kept = list(store.events(store.latest_session()))
    assert kept[: len(events)] == events, "the session keeps what it held"


@fuzz(100)
@given(
    argv=st.lists(
        st.one_of(
            st.sampled_from(["export", "sessions", "rename", "ask", "actions", "replay", "--id",
                             "--format", "md", "json", "exe", "-o", "--since", "99:99", "1:03",
                             "--json", "--minutes", "S1", "S9", "Alice", "", "--fast", "-1",
                             "--llm", "/nonexistent.gguf", "--endpoint", "http://127.0.0.1:9"]),
            st.text(max_size=12),
        ),
        max_size=6,
    ),
    db_kind=st.sampled_from(["real", "missing", "corrupt", "directory"]),
)  # fmt: skip
def test_the_command_line_takes_any_arguments(stored_session, tmp_path_factory, argv, db_kind):
    db, events = stored_session
    other = tmp_path_factory.mktemp("cli")
    paths = {"real": db, "missing": other / "none.db", "corrupt": other / "bad.db",
             "directory": other}  # fmt: skip
    (other / "bad.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    target = paths[db_kind]
    command = argv[0] if argv else "sessions"
    if command in ("ask", "actions", "replay") and db_kind == "real":
        target = paths["missing"]  # a real session would load the LLM or capture audio
    if command == "replay":
        argv = ["replay", str(other / "bad.db"), "--session", str(target), *argv[1:]]
    else:
        argv = [command, str(target), *argv[1:]]
    argv = [a for a in argv if a not in ("--minutes", "--endpoint")] if db_kind == "real" else argv
    try:
        code = main(argv)
        assert isinstance(code, int)
    except SystemExit as exc:  # argparse: a usage error
        assert exc.code in (0, 2)
    with SessionStore(db) as store:
        kept = list(store.events(store.latest_session()))
    assert kept[: len(events)] == events, "the session keeps what it held"
