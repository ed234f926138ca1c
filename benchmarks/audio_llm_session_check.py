"""A check of the audio session on a GPU: eviction resets the prefix, prompts trim it.

A tiny random model (bf16 on a GPU, fp32 on a CPU) with a 600-position context, so
the audio is evicted every few chunks, is fed a minute of dev_m03; then the graphed
prefix is compared with an eager one over the same chunks. Prints what it saw and
fails on a broken invariant. (On a CPU both prefixes run the same forward eagerly.)

    python benchmarks/audio_llm_session_check.py [--device cuda] [--eval DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from roomtone.plugins.moss_audio.config import tiny_config
from roomtone.plugins.moss_audio.model import MossAudioModel
from roomtone.plugins.moss_audio.prefix import ChunkInputs, SessionPrefix
from roomtone.plugins.moss_audio.session import AudioSession
from roomtone.streaming.sources import decode_file

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
HEAD = [151644, 8948, 198, 151669]
QUESTION = [151670, 198, 3838, 374, 1052, 30, 151645, 198, 151644, 77091, 198]
IM_END = frozenset({151645})


class Characters:
    """A stand-in vocabulary (the model's weights are random): one token per character."""

    def encode(self, text: str) -> list[int]:
        """Token ids 1000.. for the text's characters."""
        return [1000 + (ord(c) % 5000) for c in text]

    def decode(self, ids: list[int]) -> str:
        """Characters back; ids outside the range as '?'."""
        return "".join(chr(i - 1000) if 1000 <= i < 6000 else "?" for i in ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--eval", type=Path, default=EVAL, help="folder of the eval meetings")
    args = parser.parse_args()
    torch.manual_seed(0)
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    with torch.device(args.device):
        model = MossAudioModel(tiny_config()).to(dtype).eval()
    audio = decode_file(sorted(args.eval.glob("dev_m03*.flac"))[0])[: 16000 * 60]
    session = AudioSession(model, Characters(), reserve=64, evict_seconds=8, limit=600)
    graphed = session.prefix.appends
    for at in range(0, audio.size, 16000):
        for chunk in session.feed(audio[at : at + 16000], at):
            session.remember(4 * chunk.index, 4 * chunk.index + 4, f"chunk {chunk.index} words")
    captured = sorted(graphed.captured) if graphed else None
    print(f"rebuilds {session.rebuilds}, first chunk {session.first_chunk}, "
          f"length {session.prefix.length}, graphs {captured}")  # fmt: skip
    assert session.rebuilds >= 1 and session.prefix.length <= 600 - 64
    length = session.prefix.length
    first = session.prompt("What was said?", max_new_tokens=8)
    again = session.prompt("What was said?", max_new_tokens=8)
    assert session.prefix.length == length == session.prefix.cache.get_seq_length()
    print(f"the same prompt twice gives the same answer: {first == again}")
    chunks = [ChunkInputs(i, *inputs) for i, inputs in sorted(session.encoder.chunks.items())]
    logits, tokens = [], []
    for graphs in (True, False):
        prefix = SessionPrefix(model, graphs=graphs)
        prefix.extend(HEAD)
        for chunk in chunks[:8]:
            prefix.extend_chunk(chunk)
        with prefix.scratch():
            logits.append(prefix.extend(QUESTION).float())
            tokens.append(prefix.generate(QUESTION, 6, IM_END))
    diff = float((logits[0] - logits[1]).abs().max())
    print(f"graphed vs eager prefix: answer logits max abs diff {diff}, "
          f"tokens {tokens[0]} vs {tokens[1]}")  # fmt: skip
    print("session check passed")


if __name__ == "__main__":
    main()
