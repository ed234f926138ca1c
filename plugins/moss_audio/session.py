r"""A live session on the audio-LLM: audio in, chunks encoded once, one cached prefix, questions.

The prefix is the Qwen chat prompt with the meeting's audio growing inside the
user turn: ``<|im_start|>system … <|im_start|>user\\n<|audio_bos|>`` then every
completed chunk's audio tokens and absolute time markers. A prompt (a question, or
the engine's caption request) closes the audio (``<|audio_eos|>\\n…``) inside
:meth:`SessionPrefix.scratch`, so it costs only its own tokens and is cut off after.

Beyond the context (40,960 positions, about 47 minutes of audio), the oldest
``evict_seconds`` of audio leave the prefix: the prefix is rebuilt once from the
text memory of what they held (the captions given for them, with time ranges)
followed by the audio still kept. The kept chunks are not encoded again, only
prefilled again: one re-prefill per ``evict_seconds`` of meeting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ...assistant.memory import CITATION, Answer
from ...streaming.clock import format_clock
from ...streaming.encoder_cache import EncoderCache
from .config import AUDIO_BOS_ID, AUDIO_EOS_ID
from .model import MossAudioModel
from .prefix import TOKENS_PER_CHUNK, ChunkInputs, SessionPrefix

SYSTEM = (
    "You are listening to a live meeting. Numbers among the audio are the seconds "
    "since the meeting started. Answer from what was said and heard; if something "
    "was not discussed, say so."
)
IM_START, IM_END = 151644, 151645


class Tokenizer(Protocol):
    """Text to Qwen token ids and back."""

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (no special tokens added)."""
        ...

    def decode(self, ids: list[int]) -> str:
        """Text of ``ids``."""
        ...


@dataclass(frozen=True)
class Note:
    """Text memory of audio that has left the prefix."""

    start: float
    end: float
    text: str


class AudioSession:
    """The audio-LLM's view of one meeting, kept warm for the next prompt."""

    def __init__(
        self,
        model: MossAudioModel,
        tokenizer: Tokenizer,
        system: str = SYSTEM,
        reserve: int = 2048,
        evict_seconds: float = 600.0,
        limit: int | None = None,
    ) -> None:
        self.model, self.tokenizer, self.system = model, tokenizer, system
        self.reserve = reserve  # positions kept free for a prompt and its answer
        self.limit = limit or model.config.max_positions
        self.evict_chunks = max(1, round(evict_seconds / 4))
        chunk_frames = model.config.audio.chunk_frames
        self.encoder = EncoderCache(self._encode, chunk_frames=chunk_frames)
        self.notes: list[Note] = []
        self.prefix = SessionPrefix(model, self.limit)
        self.first_chunk: int | None = None  # the oldest chunk whose audio is in the prefix
        self.rebuilds = 0
        self._lock = threading.Lock()  # the pipeline's thread feeds, a reader's thread asks
        self._start_prefix([])

    @property
    def device(self) -> torch.device:
        """Where the model runs."""
        return self.model.lm_head.weight.device

    @torch.inference_mode()
    def _encode(self, mel: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        encoded = self.model.audio_encoder.encode_chunk(torch.from_numpy(mel).to(self.device))
        return self.model.audio_inputs(encoded)

    def feed(self, samples: np.ndarray, start_sample: int) -> list[ChunkInputs]:
        """Take audio on the session clock; the chunks it completed are now in the prefix."""
        with self._lock:
            return self._feed(samples, start_sample)

    def _feed(self, samples: np.ndarray, start_sample: int) -> list[ChunkInputs]:
        added = []
        for index, (embeds, deepstack) in self.encoder.feed(samples, start_sample):
            chunk = ChunkInputs(index, embeds, deepstack)
            if self._full():
                self._evict(before=index)
            if self.first_chunk is None:
                self.first_chunk = index
            self.prefix.extend_chunk(chunk)
            added.append(chunk)
        return added

    def remember(self, start: float, end: float, text: str) -> None:
        """Keep text for a stretch of audio (its captions), for when the audio leaves."""
        if text.strip():
            self.notes.append(Note(start, end, " ".join(text.split())))

    def prompt(
        self,
        text: str,
        max_new_tokens: int = 256,
        on_text: Callable[[str], None] | None = None,
        with_tail: bool = True,
    ) -> str:
        """Ask over the session so far (the incomplete last chunk included); the answer."""
        if not text.strip():
            raise ValueError("ask a question")
        ids = [AUDIO_EOS_ID, *self.tokenizer.encode(f"\n{text.strip()}")]
        ids += [IM_END, *self.tokenizer.encode("\n"), IM_START,
                *self.tokenizer.encode("assistant\n")]  # fmt: skip
        if len(ids) > self.reserve // 2:
            raise ValueError(f"keep the prompt under {self.reserve // 2} tokens")
        written: list[int] = []

        def took(token: int) -> None:
            written.append(token)
            if on_text is not None:
                on_text(self.tokenizer.decode(written))

        with self._lock, self.prefix.scratch():
            tail = self.encoder.tail() if with_tail else None
            if tail is not None:  # the chunk still filling, never one in the prefix
                index, (embeds, deepstack) = tail
                self.prefix.extend_chunk(ChunkInputs(index, embeds, deepstack))
            out = self.prefix.generate(ids, max_new_tokens, frozenset({IM_END}), took)
        return self.tokenizer.decode(out).strip()

    def ask(
        self,
        question: str,
        since: float | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """A reader's question over the audio so far, cited as [mm:ss] (the ask box's call)."""
        if not question.strip():
            raise ValueError("ask a question")
        heard = self.encoder.next_sample / 16000
        if heard == 0:
            return Answer("Nothing has been heard yet.", [], 0.0, 0.0, 0)
        if since is not None and not 0 <= since <= heard:
            raise ValueError("that time is outside the meeting so far")
        scope = f" Only what happened since second {int(since)}." if since is not None else ""
        text = f"{question.strip()}{scope} Cite the moments you rely on as [mm:ss]."
        t0, first = time.perf_counter(), [0.0]

        def written(so_far: str) -> None:
            first[0] = first[0] or time.perf_counter() - t0
            if on_text is not None:
                on_text(so_far)

        reply = self.prompt(text, on_text=written)
        cited = []
        for match in CITATION.finditer(reply):
            at = int(match.group(1) or 0) * 3600 + int(match.group(2)) * 60 + int(match.group(3))
            if at <= heard:
                cited.append((float(at), min(heard, at + 4.0)))
        tokens = len(self.tokenizer.encode(text))
        return Answer(reply, cited, first[0], time.perf_counter() - t0, tokens)

    def _start_prefix(self, kept: list[ChunkInputs]) -> None:
        """A fresh prefix: system, the text memory, then the audio still kept."""
        self.prefix.reset()
        head = f"<|im_start|>system\n{self.system}<|im_end|>\n<|im_start|>user\n"
        if self.notes:
            lines = [
                f"[{format_clock(n.start)}-{format_clock(n.end)}] {n.text}" for n in self.notes
            ]
            head += "Earlier in the meeting (notes; the audio is no longer held):\n"
            head += "\n".join(lines) + "\nThe meeting's audio since then:\n"
        self.prefix.extend([*self.tokenizer.encode(head), AUDIO_BOS_ID], logits_for=0)
        for chunk in kept:
            self.prefix.extend_chunk(chunk)
        self.first_chunk = kept[0].index if kept else None

    def _full(self) -> bool:
        """No room left for one more chunk, a provisional tail and a prompt."""
        return self.prefix.length + 2 * (TOKENS_PER_CHUNK + 4) + self.reserve > self.limit

    def _evict(self, before: int) -> None:
        """Drop the oldest audio from the prefix; its notes stand in for it."""
        start = self.first_chunk if self.first_chunk is not None else before
        chunks = [ChunkInputs(i, *inputs) for i, inputs in self.encoder.chunks.items()
                  if start <= i < before]  # fmt: skip
        kept = chunks[self.evict_chunks :]
        for index in [c.index for c in chunks[: self.evict_chunks]]:
            del self.encoder.chunks[index]
        self.rebuilds += 1
        self._start_prefix(kept)
        if self._full():
            self.notes = self.notes[len(self.notes) // 2 :]  # the notes themselves overflow
            self._start_prefix(kept)
