"""Audio-LLM tier: the cost of one new 4 s chunk as the session grows, cached vs from scratch.

A session of ``--minutes`` of real meeting audio (the eval meetings, repeated) is fed
chunk by chunk through the live front end, the incremental encoder cache and the
session prefix (random weights: cost does not depend on them). At 1, 10, 20 and 40
minutes it measures, side by side in one run:

- cached: encoding the new chunk and extending the prefix by it (the live path);
- from scratch: re-encoding the whole session so far (upstream's chunked offline
  encoding) and prefilling all of it again (what a runtime without these caches
  does at every update);
- time to the first answer token with the prefix cached vs prefilled afresh;
- the new chunk's prefill on transformers' defaults (``DynamicCache``, which copies
  the whole cache at each append, and ``sdpa``, which copies the grouped key/value
  heads) vs this runtime's reserved cache and grouped attention, with and without
  CUDA graph replay (on a CPU both run the same forward eagerly).

Every chunk's encoder and prefill time is also recorded as the session grows, with
each chunk's latency (from its last second of audio arriving to the prefix holding it)
and the live real-time factor (that work over the audio's duration, comparisons left
out). At each mark the cached chunks' audio embeddings and the first answer token's
logits are compared with the from-scratch pass (the drift of the dtype in use).

    python benchmarks/audio_llm_cache.py [--config small|4b] [--device cpu|cuda] [--minutes 40]
        [--eval DIR]

``small`` is a CPU-sized config with the real structure; ``4b`` has MOSS-Audio-4B's
shapes (a GPU). Writes benchmarks/results/audio_llm_cache[_4b].json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import print_table, write_results
from transformers import DynamicCache

from roomtone.plugins.moss_audio.attention import NAME as GROUPED_SDPA
from roomtone.plugins.moss_audio.config import EncoderConfig, MossAudioConfig, tiny_config
from roomtone.plugins.moss_audio.model import MossAudioModel
from roomtone.plugins.moss_audio.prefix import ChunkInputs, SessionPrefix
from roomtone.streaming.encoder_cache import EncoderCache
from roomtone.streaming.log_mel import CEILING, offline_log_mel
from roomtone.streaming.sources import decode_file

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
HEAD = [151644, 8948, 198, 151669]
QUESTION = [151670, 198, 3838, 6932, 518, 220, 19, 16, 25, 17, 15, 30, 151645, 198, 151644, 77091]
CHUNK = 64000


def small_config() -> MossAudioConfig:
    """The real structure at a size a 2-core CPU runs 40 minutes of in minutes."""
    base = tiny_config()
    encoder = EncoderConfig(d_model=256, output_dim=256, encoder_layers=8,
                            encoder_attention_heads=4, encoder_ffn_dim=1024,
                            downsample_hidden_size=64,
                            deepstack_encoder_layer_indexes=(2, 4, 6))  # fmt: skip
    language = {**base.language, "hidden_size": 256, "intermediate_size": 1024,
                "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 2,
                "head_dim": 32}  # fmt: skip
    return MossAudioConfig(audio=encoder, language=language, adapter_hidden_size=1024)


def config_4b() -> MossAudioConfig:
    """MOSS-Audio-4B's shapes (design.md section 7)."""
    language = {"vocab_size": 151936, "hidden_size": 2560, "intermediate_size": 9728,
                "num_hidden_layers": 36, "num_attention_heads": 32, "num_key_value_heads": 8,
                "head_dim": 128, "rope_theta": 1_000_000.0, "max_position_embeddings": 40960,
                "tie_word_embeddings": False}  # fmt: skip
    return MossAudioConfig(audio=EncoderConfig(), language=language, adapter_hidden_size=8192)


def meeting_audio(minutes: float, eval_dir: Path = EVAL) -> np.ndarray:
    """The eval meetings one after another, repeated to ``minutes``."""
    parts = [decode_file(f) for f in sorted(eval_dir.glob("dev_m0*.flac"))]
    if not parts:
        raise SystemExit(f"no dev_m0*.flac meetings in {eval_dir}")
    audio = np.concatenate(parts)
    reps = int(np.ceil(minutes * 60 * 16000 / audio.size))
    return np.tile(audio, reps)[: int(minutes * 60 * 16000) + 640]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(work, device: torch.device) -> tuple[float, object]:
    sync(device)
    t0 = time.perf_counter()
    out = work()
    sync(device)
    return time.perf_counter() - t0, out


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=("small", "4b"), default="small")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--minutes", type=float, default=40.0)
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default=None)
    parser.add_argument("--eval", type=Path, default=EVAL, help="folder of the eval meetings")
    args = parser.parse_args()
    device = torch.device(args.device)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}.get(
        args.dtype or ("bf16" if device.type == "cuda" else "fp32")
    )
    torch.manual_seed(0)
    config = small_config() if args.config == "small" else config_4b()
    with torch.device(device):
        model = MossAudioModel(config).to(dtype).eval()
    audio = meeting_audio(args.minutes, args.eval)
    marks = sorted({m for m in (1, 10, 20, 40) if m <= args.minutes})
    encoder = model.audio_encoder

    def encode(mel: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return model.audio_inputs(encoder.encode_chunk(torch.from_numpy(mel).to(device)))

    cache = EncoderCache(encode)
    prefix = SessionPrefix(model)
    prefix.extend(HEAD)
    chunks: list[ChunkInputs] = []
    encode_s: dict[int, list[float]] = {}
    prefill_s: dict[int, list[float]] = {}
    latency_s: dict[int, list[float]] = {}
    live_work_s = 0.0
    rows, results = [], []
    step = 16000  # 1 s of audio per feed, as live capture sends it
    t_session = time.perf_counter()
    for at in range(0, audio.size, step):
        t_encode, done = timed(partial(cache.feed, audio[at : at + step], at), device)
        live_work_s += t_encode
        waited = t_encode  # a chunk is ready once its feed and every prefill before it ran
        for index, (embeds, deepstack) in done:
            chunk = ChunkInputs(index, embeds, deepstack)
            t_prefill, _ = timed(partial(prefix.extend_chunk, chunk), device)
            live_work_s += t_prefill
            waited += t_prefill
            chunks.append(chunk)
            minute = int((index + 1) * 4 // 60)
            encode_s.setdefault(minute, []).append(t_encode / len(done))
            prefill_s.setdefault(minute, []).append(t_prefill)
            latency_s.setdefault(minute, []).append(waited)
        reached = (at + step) / 16000 / 60
        if marks and reached >= marks[0] and len(chunks) == marks[0] * 15:
            minute = marks.pop(0)
            results.append(compare(model, prefix, chunks, audio[: at + step], minute, device))
            print(json.dumps(results[-1]), flush=True)  # kept even if a later mark fails
            r = results[-1]
            rows.append([minute, r["positions"], r["cached_chunk_s"], r["scratch_s"],
                         r["update_ratio"], r["cached_first_token_s"], r["first_token_ratio"],
                         r["prefill_s"], r["prefill_eager_s"],
                         r["prefill_defaults_s"]])  # fmt: skip
    session_s = time.perf_counter() - t_session
    encode_by_minute = medians(encode_s)
    prefill_by_minute = medians(prefill_s)
    latency_by_minute = medians(latency_s)
    latencies = sorted(t for v in latency_s.values() for t in v)
    print_table(["minute", "positions", "new chunk cached s", "whole session again s",
                 "ratio", "1st answer token cached s", "ratio", "chunk prefill s",
                 "same without graphs s", "same on transformers defaults s"], rows)  # fmt: skip
    print_table(
        ["minute", "encode one chunk s (median)", "prefill one chunk s (median)",
         "chunk latency s (median)"],
        [[m, encode_by_minute[m], prefill_by_minute[m], latency_by_minute[m]]
         for m in encode_by_minute],
    )  # fmt: skip
    audio_s = audio.size / 16000
    live_rtf = live_work_s / audio_s
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"{audio_s / 60:.1f} min of audio fed live: live work {live_work_s:.1f} s "
          f"(real-time factor {live_rtf:.4f}); chunk latency p95 {p95:.4f} s, "
          f"max {latencies[-1]:.4f} s; {session_s:.1f} s with the comparisons")  # fmt: skip
    peak_gb = None
    if device.type == "cuda":
        peak_gb = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        print(f"{torch.cuda.get_device_name(device)}: peak memory allocated {peak_gb} GiB")
    name = "audio_llm_cache" + ("_4b" if args.config == "4b" else "")
    payload = {"config": args.config, "device": str(device), "dtype": str(dtype),
               "device_name": torch.cuda.get_device_name(device) if device.type == "cuda"
               else None, "minutes": args.minutes, "comparisons": results,
               "live_work_s": round(live_work_s, 2), "live_real_time_factor": round(live_rtf, 5),
               "chunk_latency_p95_s": round(p95, 4), "chunk_latency_max_s": round(latencies[-1], 4),
               "peak_gpu_memory_gib": peak_gb,
               "median_encode_s_by_minute": encode_by_minute,
               "median_prefill_s_by_minute": prefill_by_minute,
               "median_chunk_latency_s_by_minute": latency_by_minute}  # fmt: skip
    print(f"wrote {write_results(name, payload)}")


def compare(model, prefix: SessionPrefix, chunks: list[ChunkInputs], audio: np.ndarray,
            minute: int, device: torch.device) -> dict:  # fmt: skip
    """One new chunk cached vs the whole session again; first answer token both ways."""
    encoder = model.audio_encoder
    last = chunks[-1]
    mel = offline_log_mel(audio[: (last.index + 1) * CHUNK], CEILING)
    # cached: the last chunk's encoding and prefix extension, measured on a copy of the step
    chunk_mel = torch.from_numpy(mel[:, -400:]).to(device)
    cached = []
    for _ in range(3):
        with prefix.scratch():
            t, _ = timed(lambda: prefix.extend_chunk(
                ChunkInputs(last.index + 1, *model.audio_inputs(encoder.encode_chunk(chunk_mel)))
            ), device)  # fmt: skip
        cached.append(t)
    new_chunk = ChunkInputs(last.index + 1, *model.audio_inputs(encoder.encode_chunk(chunk_mel)))
    prefill = [timed(partial(extend_and_crop, prefix, new_chunk), device)[0] for _ in range(3)]
    appends, prefix.appends = prefix.appends, None  # the same cache, without graph replay
    try:
        prefill_eager = [
            timed(partial(extend_and_crop, prefix, new_chunk), device)[0] for _ in range(3)
        ]
    finally:
        prefix.appends = appends
    defaults = on_transformers_defaults(model, prefix)
    config = model.language_model.config
    config._attn_implementation = "sdpa"
    try:
        prefill_defaults = [
            timed(partial(extend_and_crop, defaults, new_chunk), device)[0] for _ in range(3)
        ]
    finally:
        config._attn_implementation = GROUPED_SDPA
    cached_first = []
    for _ in range(3):
        with prefix.scratch():
            t, cached_logits = timed(lambda: prefix.extend(QUESTION)[-1], device)
        cached_first.append(t)

    def from_scratch() -> tuple[torch.Tensor, torch.Tensor]:
        encoded = encoder.encode_offline(torch.from_numpy(mel).to(device))
        embeds, deepstack = model.audio_inputs(encoded)
        ids = HEAD + [t for c in chunks for t in c.ids()]
        fresh = SessionPrefix(model, graphs=False)
        fresh.extend(ids, (embeds, deepstack), logits_for=0)
        logits = fresh.extend(QUESTION)[-1]
        int(torch.argmax(logits))  # the first answer token
        return embeds, logits

    # from scratch, one pass serves both comparisons: re-encoding and re-prefilling the
    # session is the update, and its first answer token comes after the question's tokens
    scratch, (scratch_embeds, scratch_logits) = timed(from_scratch, device)
    n = sum(ch.tokens for ch in chunks)
    embeds_diff = (torch.cat([ch.embeds for ch in chunks]) - scratch_embeds[:n]).abs().max()
    c, f = statistics.median(cached), statistics.median(cached_first)
    return {
        "minute": minute,
        "positions": prefix.length,
        "cached_chunk_s": round(c, 4),
        "scratch_s": round(scratch, 3),
        "update_ratio": round(scratch / c, 1),
        "cached_first_token_s": round(f, 4),
        "first_token_ratio": round(scratch / f, 1),
        "prefill_s": round(statistics.median(prefill), 4),
        "prefill_eager_s": round(statistics.median(prefill_eager), 4),
        "prefill_defaults_s": round(statistics.median(prefill_defaults), 4),
        "embeds_max_abs_diff": float(embeds_diff),
        "first_token_logits_max_abs_diff": float((cached_logits - scratch_logits).abs().max()),
        "first_token_same": int(torch.argmax(cached_logits)) == int(torch.argmax(scratch_logits)),
    }


def medians(by_minute: dict[int, list[float]]) -> dict[int, float]:
    """The median of each minute's values."""
    return {m: round(statistics.median(v), 4) for m, v in sorted(by_minute.items())}


def extend_and_crop(prefix: SessionPrefix, chunk: ChunkInputs) -> None:
    """One chunk's prefill, cut off again."""
    with prefix.scratch():
        prefix.extend_chunk(chunk)


def on_transformers_defaults(model: MossAudioModel, prefix: SessionPrefix) -> SessionPrefix:
    """A copy of the prefix held in transformers' ``DynamicCache``."""
    copy = SessionPrefix(model, prefix.limit, graphs=False)
    copy.cache = DynamicCache(
        ddp_cache_data=[(layer.keys.clone(), layer.values.clone()) for layer in prefix.cache.layers]
    )
    copy.ids = list(prefix.ids)
    return copy


if __name__ == "__main__":
    main()
