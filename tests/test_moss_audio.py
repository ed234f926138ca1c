"""The audio-LLM tier on a tiny random config (fp32, CPU): caching is exact, layouts match."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from roomtone.plugins.moss_audio.attention import NAME as GROUPED_SDPA
from roomtone.plugins.moss_audio.attention import folded_sdpa
from roomtone.plugins.moss_audio.checkpoint import (
    CheckpointError,
    cache_bytes,
    load_model,
    save_checkpoint,
)
from roomtone.plugins.moss_audio.config import ConfigError, MossAudioConfig, tiny_config
from roomtone.plugins.moss_audio.model import EncodedAudio, MossAudioModel
from roomtone.plugins.moss_audio.prefix import ChunkInputs, ContextFullError, SessionPrefix
from roomtone.streaming.encoder_cache import ClockError, EncoderCache
from roomtone.streaming.log_mel import CEILING, StreamingLogMel, offline_log_mel
from roomtone.streaming.time_markers import AudioRun, Marker, marker_layout

HEAD = [151644, 8948, 198, 151669]  # <|im_start|>system\n<|audio_bos|>
QUESTION = [151670, 198, 3838, 374, 1052, 30, 151645, 198, 151644, 77091, 198]
IM_END = frozenset({151645})


@pytest.fixture(scope="module")
def model() -> MossAudioModel:
    torch.manual_seed(0)
    return MossAudioModel(tiny_config()).eval()


@pytest.fixture(scope="module")
def speech(onboarding_audio) -> np.ndarray:
    """13.05 s of a real meeting: three whole 4 s chunks and a partial one."""
    return onboarding_audio[: 16000 * 13 + 777]


def fed_in_pieces(cache: EncoderCache, audio: np.ndarray, seed: int = 1, at: int = 0) -> list:
    rng, done, i = np.random.default_rng(seed), [], 0
    while i < audio.size:
        n = int(rng.integers(100, 5000))
        done += cache.feed(audio[i : i + n], at + i)
        i += n
    return done


def encoder_cache(model: MossAudioModel) -> EncoderCache:
    return EncoderCache(lambda mel: model.audio_encoder.encode_chunk(torch.from_numpy(mel)))


def test_the_live_front_end_equals_offline_features_with_the_same_ceiling(speech):
    front, pieces = StreamingLogMel(), []
    rng, i = np.random.default_rng(0), 0
    while i < speech.size:
        n = int(rng.integers(1, 3000))
        pieces.append(front.push(speech[i : i + n]))
        i += n
    live = np.concatenate([*pieces, front.tail()], axis=1)
    offline = offline_log_mel(speech, CEILING)
    assert live.shape == offline.shape == (128, speech.size // 160)
    assert np.abs(live - offline).max() <= 1e-5
    upstream = offline_log_mel(speech)  # clamped at the clip's own max - 8
    assert 0 < np.abs(live - upstream).mean() < 0.05  # the documented, measured departure


@torch.inference_mode()
def test_incremental_encoding_equals_offline_chunked_encoding(model, speech):
    cache = encoder_cache(model)
    done = fed_in_pieces(cache, speech)
    index, tail = cache.tail()
    assert [i for i, _ in done] == [0, 1, 2] and index == 3
    assert cache.encoded == 4  # three chunks once each, one provisional tail
    assert cache.tail() is not None and cache.encoded == 4  # asked again: not re-encoded
    live = EncodedAudio.join([e for _, e in done] + [tail])
    offline = model.audio_encoder.encode_offline(torch.from_numpy(offline_log_mel(speech, CEILING)))
    assert live.tokens == offline.tokens == 150 + 13
    assert (live.states - offline.states).abs().max() <= 1e-5
    for live_tap, offline_tap in zip(live.taps, offline.taps, strict=True):
        assert (live_tap - offline_tap).abs().max() <= 1e-5


@torch.inference_mode()
def test_the_provisional_tail_is_replaced_when_its_chunk_completes(model, speech, onboarding_audio):
    cache = encoder_cache(model)
    fed_in_pieces(cache, speech)
    provisional = cache.tail()[1]
    more = onboarding_audio[speech.size : 16000 * 16 + 40]  # chunk 3's last frame is final
    done = cache.feed(more, speech.size)
    assert [i for i, _ in done] == [3] and cache.chunks[3] is done[0][1]
    alone = model.audio_encoder.encode_chunk(
        torch.from_numpy(offline_log_mel(onboarding_audio[: 16000 * 17], CEILING)[:, 1200:1600])
    )
    assert (done[0][1].states - alone.states).abs().max() <= 1e-5
    assert provisional.tokens == 13 and done[0][1].tokens == 50


def test_audio_going_back_in_time_is_refused_and_gaps_skip_empty_chunks(model, speech):
    cache = encoder_cache(model)
    cache.feed(speech[:32000], 0)
    with pytest.raises(ClockError, match="goes back"):
        cache.feed(speech[:100], 16000)
    done = cache.feed(speech[:16000], 16000 * 60)  # a minute later: chunk 0 closes, 15 resumes
    assert [i for i, _ in done] == [0]
    assert cache.tail()[0] == 15 and cache.next_sample == 16000 * 61
    assert sorted(cache.chunks) == [0]


def test_time_markers_follow_the_upstream_rule_for_a_clip_from_zero():
    def upstream(tokens: int) -> list:  # the processor's rule, as its code states it
        out, used = [], 0
        for second in range(2, int(tokens / 12.5) + 1, 2):
            pos = (second // 2) * 25
            out += [AudioRun(pos - used), Marker(second)]
            used = pos
        return out + ([AudioRun(tokens - used)] if tokens > used else [])

    for tokens in (1, 24, 25, 26, 49, 50, 51, 137, 750, 1500):
        assert marker_layout(0, tokens) == upstream(tokens), tokens
    # Chunk by chunk on the session clock gives the same as one clip
    joined = [item for k in range(30) for item in marker_layout(50 * k, 50)]
    assert joined == upstream(1500)
    assert marker_layout(50 * 620, 50)[1] == Marker(2482)  # 41:22 in chunk 620


@torch.inference_mode()
def test_prefix_extended_chunk_by_chunk_equals_one_full_prefill(model, speech):
    cache = encoder_cache(model)
    chunks = [ChunkInputs(i, *model.audio_inputs(e)) for i, e in fed_in_pieces(cache, speech)]
    live = SessionPrefix(model)
    live.extend(HEAD)
    for chunk in chunks:
        live.extend_chunk(chunk)
    with live.scratch():
        incremental = live.extend(QUESTION)
    ids = HEAD + [t for c in chunks for t in c.ids()] + QUESTION
    audio = (torch.cat([c.embeds for c in chunks]), torch.cat([c.deepstack for c in chunks], 1))
    full = SessionPrefix(model).extend(ids, audio)
    assert (incremental - full[-len(QUESTION) :]).abs().max() <= 1e-4
    # DeepStack is really applied: without it the answer's logits move
    flat = (audio[0], torch.zeros_like(audio[1]))
    assert (SessionPrefix(model).extend(ids, flat)[-1] - full[-1]).abs().max() > 1e-3


@torch.inference_mode()
def test_a_question_leaves_the_prefix_as_it_was_and_the_next_answer_is_the_same(model, speech):
    cache = encoder_cache(model)
    prefix = SessionPrefix(model)
    prefix.extend(HEAD)
    for index, encoded in fed_in_pieces(cache, speech):
        prefix.extend_chunk(ChunkInputs(index, *model.audio_inputs(encoded)))
    length, keys = prefix.length, prefix.cache.layers[0].keys.clone()
    answers = []
    for _ in range(2):
        with prefix.scratch():
            answers.append(prefix.generate(QUESTION, 12, IM_END))
        assert prefix.length == prefix.cache.get_seq_length() == length
        assert torch.equal(prefix.cache.layers[0].keys, keys)
    assert answers[0] == answers[1] and len(answers[0]) > 0


@torch.inference_mode()
def test_a_prefix_grown_past_its_reserved_room_still_equals_one_full_prefill(model):
    ids = torch.randint(0, 151000, (2600,), generator=torch.Generator().manual_seed(3)).tolist()
    live = SessionPrefix(model)
    for at in range(0, 2500, 250):  # past the first 1,024 reserved positions and then 2,048
        live.extend(ids[at : at + 250], logits_for=0)
        with live.scratch():  # a question in between, cut off again
            live.generate(QUESTION, 3, IM_END)
    incremental = live.extend(ids[2500:], logits_for=100)
    layer = live.cache.layers[0]
    assert layer.reserved >= live.length == 2600 == live.cache.get_seq_length()
    full = SessionPrefix(model).extend(ids)
    assert (incremental - full[-100:]).abs().max() <= 1e-4


@torch.inference_mode()
def test_grouped_key_value_heads_attend_as_transformers_sdpa_does(model, speech):
    cache = encoder_cache(model)
    chunks = [ChunkInputs(i, *model.audio_inputs(e)) for i, e in fed_in_pieces(cache, speech)]
    config = model.language_model.config
    assert config.num_attention_heads > config.num_key_value_heads  # grouped heads

    def answer_logits() -> torch.Tensor:
        prefix = SessionPrefix(model)
        prefix.extend(HEAD)
        for chunk in chunks:
            prefix.extend_chunk(chunk)
        return prefix.extend(QUESTION)

    grouped, config._attn_implementation = answer_logits(), "sdpa"
    try:
        copied = answer_logits()
    finally:
        config._attn_implementation = GROUPED_SDPA
    assert (grouped - copied).abs().max() <= 1e-5


def test_folded_queries_attend_as_copied_key_value_heads_do():
    """The CUDA path's grouped attention: each key/value head's query heads end to end."""
    gen = torch.Generator().manual_seed(5)
    query = torch.randn(1, 8, 6, 16, generator=gen)
    key, value = torch.randn(2, 1, 2, 30, 16, generator=gen)
    past = 24  # six new positions after 24 held ones: each sees the past and itself
    mask = (torch.arange(30)[None, :] <= past + torch.arange(6)[:, None])[None, None]
    copied = torch.nn.functional.scaled_dot_product_attention(
        query, key.repeat_interleave(4, 1), value.repeat_interleave(4, 1), attn_mask=mask
    )
    folded = folded_sdpa(query, key, value, mask, None)
    assert folded.shape == (1, 6, 8, 16)
    assert (folded.transpose(1, 2) - copied).abs().max() <= 1e-5
    # a head reading the wrong key/value head would show
    wrong = folded_sdpa(query, key.flip(1), value.flip(1), mask, None)
    assert (wrong.transpose(1, 2) - copied).abs().max() > 1e-2


@torch.inference_mode()
def test_appends_over_the_whole_reserved_room_equal_the_eager_prefix(model, speech):
    """The forward a CUDA graph records (run eagerly here): chunks and answer tokens."""
    cache = encoder_cache(model)
    chunks = [ChunkInputs(i, *model.audio_inputs(e)) for i, e in fed_in_pieces(cache, speech)]
    assert all(chunk.tokens == 50 for chunk in chunks)  # whole chunks take the graphed path
    eager, room = SessionPrefix(model, graphs=False), SessionPrefix(model, graphs=True)
    answers, logits = [], []
    for prefix in (eager, room):
        prefix.extend(HEAD)
        for chunk in chunks:
            prefix.extend_chunk(chunk)
        with prefix.scratch():
            logits.append(prefix.extend(QUESTION))
        with prefix.scratch():
            answers.append(prefix.generate(QUESTION, 12, IM_END))
        assert prefix.length == prefix.cache.get_seq_length() == len(prefix.ids)
    assert room.appends is not None and sorted(room.appends.captured) == sorted(
        {1, *(len(c.ids()) for c in chunks)}
    )  # one forward per append length: the chunks' and a generated token's
    assert room.cache.layers[0].reserved == model.config.max_positions
    assert (logits[0] - logits[1]).abs().max() <= 1e-4
    assert answers[0] == answers[1] and len(answers[0]) > 0
    room.reset()  # an emptied prefix keeps its room and starts again at position 0
    assert room.length == room.cache.get_seq_length() == 0
    room.extend(HEAD)
    room.extend_chunk(chunks[0])
    eager.reset()
    eager.extend(HEAD)
    eager.extend_chunk(chunks[0])
    with room.scratch(), eager.scratch():
        assert (room.extend(QUESTION) - eager.extend(QUESTION)).abs().max() <= 1e-4


@torch.inference_mode()
def test_the_prefix_refuses_to_outgrow_the_context(model):
    prefix = SessionPrefix(model)
    prefix.limit = 40
    prefix.extend(HEAD * 9)
    with pytest.raises(ContextFullError, match="past the model's 40"):
        prefix.extend(HEAD * 2)
    assert prefix.length == 36 == prefix.cache.get_seq_length()


def test_a_saved_checkpoint_with_the_real_key_names_round_trips(model, tmp_path):
    save_checkpoint(model, tmp_path / "ckpt")
    keys = set(load_file(tmp_path / "ckpt" / "model.safetensors"))
    for key in ("audio_encoder.conv1.weight", "audio_encoder.stem_proj.weight",
                "audio_encoder.layers.3.self_attn.q_proj.weight", "audio_encoder.layer_norm.bias",
                "audio_adapter.gate_proj.weight", "deepstack_audio_merger_list.2.down_proj.weight",
                "language_model.layers.0.self_attn.q_norm.weight", "language_model.norm.weight",
                "lm_head.weight"):  # fmt: skip
        assert key in keys, key
    loaded = load_model(tmp_path / "ckpt")
    ids = torch.tensor([HEAD + QUESTION])
    with torch.inference_mode():
        a = model.lm_head(model.language_model(input_ids=ids).last_hidden_state)
        b = loaded.lm_head(loaded.language_model(input_ids=ids).last_hidden_state)
    assert torch.equal(a, b)


def test_bad_checkpoints_and_configs_are_clear_errors(model, tmp_path):
    ckpt = save_checkpoint(model, tmp_path / "ckpt")
    weights = load_file(ckpt / "model.safetensors")
    del weights["audio_adapter.up_proj.weight"]
    weights["audio_encoder.extra.weight"] = torch.zeros(2)
    save_file(weights, ckpt / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"1 missing .*audio_adapter\.up_proj.*1 unexpected"):
        load_model(ckpt)

    config = json.loads((ckpt / "config.json").read_text())
    config["language_config"]["hidden_size"] = 96
    wrong = save_checkpoint(model, tmp_path / "wrong")
    (wrong / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="other shapes"):
        load_model(wrong)

    config["model_type"] = "qwen2_audio"
    with pytest.raises(ConfigError, match="not moss_audio"):
        MossAudioConfig.from_dict(config)
    with pytest.raises(CheckpointError, match="huggingface-cli download"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text(json.dumps(tiny_config().to_dict()))
    with pytest.raises(CheckpointError, match="no safetensors"):
        load_model(tmp_path / "empty")


def test_a_model_too_big_for_the_device_is_refused_before_loading(tmp_path):
    big = tiny_config().to_dict()
    big["language_config"].update(hidden_size=8192, intermediate_size=65536,
                                  num_hidden_layers=400)  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(big))
    save_file({"lm_head.weight": torch.zeros(1)}, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"needs \d+\.\d GiB .* free"):
        load_model(tmp_path)


def test_the_key_value_cache_of_a_whole_context_is_counted_before_loading():
    config = tiny_config()
    # tiny: 4 layers x 2 key/value heads x 16 dims, keys and values, 40,960 positions
    assert cache_bytes(config, torch.float32) == 2 * 4 * 2 * 16 * 40960 * 4
    # MOSS-Audio-4B's LLM in bf16: about 5.6 GiB for a full 40,960-position session
    four_b = {**config.language, "num_hidden_layers": 36, "num_key_value_heads": 8,
              "head_dim": 128}  # fmt: skip
    big = MossAudioConfig(audio=config.audio, language=four_b, adapter_hidden_size=128)
    assert round(cache_bytes(big, torch.bfloat16) / 2**30, 1) == 5.6


# --- the runtime as a live engine ------------------------------------------------------


@pytest.fixture(scope="module")
def vocabulary():
    """The Qwen vocabulary inside the bundled GGUF (same BPE and chat tokens as Qwen3)."""
    from roomtone.plugins.model_files import gguf_model
    from roomtone.plugins.moss_audio.tokens import GGUFVocabulary

    return GGUFVocabulary(gguf_model("qwen2.5-coder-1.5b"))


def test_a_reply_in_the_line_format_becomes_the_cpu_tiers_records():
    from roomtone.plugins.moss_audio.engine import parse_report, records_for

    reply = ("S2 (raised voice): we cannot ship on Friday\n[phone ringing]\n"
             "S1: then Monday it is\nsome chatter the format does not cover")  # fmt: skip
    records = records_for(parse_report(reply), "7", 28.0, 32.0)
    events = [r.to_event() for r in records]
    assert [e["type"] for e in events] == ["speaker", "caption", "emotion", "speaker",
                                           "caption", "sound"]  # fmt: skip
    first, second = events[1], events[4]
    assert first["speaker"] == "S2" and first["text"] == "we cannot ship on Friday"
    assert 28.0 <= first["words"][0]["start"] < first["words"][-1]["end"] <= 30.0
    assert second["start"] >= 30.0 and second["end"] <= 32.0
    assert events[2]["label"] == "raised voice" and events[5]["caption"] == "[phone ringing]"
    assert records_for(parse_report("-"), "8", 32.0, 36.0) == []


def test_the_engine_runs_in_the_live_pipeline_encoding_each_chunk_once(
    model, vocabulary, onboarding_audio, tmp_path
):
    import asyncio

    import soundfile

    from roomtone.plugins.moss_audio.captioner import AudioLLMCaptioner
    from roomtone.plugins.moss_audio.engine import MossAudioEngine
    from roomtone.plugins.moss_audio.session import AudioSession
    from roomtone.streaming.pipeline import run_pipeline
    from roomtone.streaming.sources import file_frames

    session = AudioSession(model, vocabulary)
    head = session.prefix.length
    engine = MossAudioEngine(session, max_new_tokens=4)
    events: list[dict] = []
    clip = tmp_path / "m03_18s.wav"
    soundfile.write(clip, onboarding_audio[: 18 * 16000 + 800], 16000)
    stats = asyncio.run(
        run_pipeline(
            file_frames(clip, realtime=False),
            AudioLLMCaptioner(engine),
            [events.append],
            realtime=False,
        )
    )
    assert stats.error is None and round(stats.audio_seconds, 2) == 18.05
    assert sorted(session.encoder.chunks) == [0, 1, 2, 3]  # 4 whole chunks, each once
    assert session.encoder.encoded == 5  # and the last 2 s once, at the end
    chunk_tokens = 4 * 50 + 4 * 1 + 4 * 2  # audio, markers "2" .. "8" and "10" .. "16"
    assert session.prefix.length == head + chunk_tokens  # prompts left nothing behind
    assert all(e["type"] in ("caption", "speaker", "emotion", "sound", "notice") for e in events)


def test_past_the_context_the_oldest_audio_leaves_for_its_notes(
    model, vocabulary, onboarding_audio
):
    from roomtone.plugins.moss_audio.session import AudioSession

    session = AudioSession(model, vocabulary, reserve=64, evict_seconds=8, limit=600)
    audio = onboarding_audio[: 16000 * 60]
    for at in range(0, audio.size, 16000):
        for chunk in session.feed(audio[at : at + 16000], at):
            session.remember(4 * chunk.index, 4 * chunk.index + 4, f"chunk {chunk.index} words")
    assert session.rebuilds >= 1 and session.first_chunk > 0
    assert session.prefix.length <= 600 - 64
    assert session.encoder.encoded == 14  # rebuilding re-prefills kept chunks, never re-encodes
    assert "Earlier in the meeting" in vocabulary.decode(session.prefix.ids[:400])
    length = session.prefix.length
    session.prompt("What was said in the first minute?", max_new_tokens=4)
    assert session.prefix.length == length
    with pytest.raises(ValueError, match="ask a question"):
        session.prompt("   ")


def test_the_remote_engine_sends_wav_windows_and_places_replies_on_the_session_clock(speech):
    """A local HTTP endpoint stands in for the vLLM server's transport, not for a model."""
    import base64
    import io
    import threading
    import wave
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from roomtone.plugins.llm_openai import EndpointError
    from roomtone.plugins.moss_audio.remote import RemoteMossAudioEngine

    bodies: list[dict] = []

    class Chat(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # /models
            self.send_response(404)
            self.end_headers()

        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            reply = {"choices": [{"message": {"content": "S1 (calm): hello there"}}]}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Chat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        engine = RemoteMossAudioEngine(f"http://127.0.0.1:{server.server_port}/v1", "moss")
        records = engine.feed(speech[:160000], 16000 * 100)  # 10 s, 100 s into the session
        records += engine.finish()
    finally:
        server.shutdown()
    assert len(bodies) == 3  # two whole chunks and the last 2 s
    windows = []
    for body in bodies:
        audio_part, text_part = body["messages"][0]["content"]
        url = audio_part["audio_url"]["url"]
        assert url.startswith("data:audio/wav;base64,")
        with wave.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
            windows.append(w.getnframes() / 16000)
        assert "second" in text_part["text"]
    assert windows == [4.0, 8.0, 6.0]  # each chunk with up to 4 s of context before it
    captions = [r.to_event() for r in records if r.to_event()["type"] == "caption"]
    assert [(c["start"], c["end"]) for c in captions] == [(100.0, 104.0), (104.0, 108.0),
                                                           (108.0, 110.0)]  # fmt: skip
    with pytest.raises(EndpointError, match="cannot reach"):
        RemoteMossAudioEngine("http://127.0.0.1:9/v1", "moss")


def test_a_readers_question_is_answered_over_the_audio_and_checked(model, vocabulary, speech):
    from roomtone.plugins.moss_audio.session import AudioSession

    session = AudioSession(model, vocabulary)
    assert session.ask("Who spoke?").text == "Nothing has been heard yet."
    session.feed(speech, 0)
    length, written = session.prefix.length, []
    answer = session.ask("Who spoke first?", since=2.0, on_text=written.append)
    assert session.prefix.length == length and answer.prompt_tokens > 5
    assert answer.total_s >= answer.first_token_s
    assert all(0 <= start <= end <= speech.size / 16000 for start, end in answer.citations)
    with pytest.raises(ValueError, match="outside the meeting"):
        session.ask("What next?", since=60.0)
    with pytest.raises(ValueError, match="ask a question"):
        session.ask(" ")
