"""The session so far as the LLM's key/value cache, extended chunk by chunk.

Upstream ``generate`` prefills a clip once and drops the audio; here the prefill is
a loop of its own: each completed 4 s chunk is appended to the cache as its audio
tokens and time markers, with the chunk's DeepStack features added to the outputs
of LLM layers 0..k-1 at its audio positions. Because DeepStack is a per-position
addition and attention is causal, the cache after any number of extensions equals
the cache of one prefill over the same tokens. A question (or a caption prompt) is
appended inside :meth:`SessionPrefix.scratch`, answered, and cut off again.

On a GPU, whole chunks and generated tokens are appended by CUDA graph replay
(:mod:`.graphs`); everything else, and everything on a CPU, runs eagerly on the same
cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from ...streaming.time_markers import marker_layout, token_ids
from .config import AUDIO_TOKEN_ID, DIGIT_TOKEN_IDS
from .graphs import GraphedAppends
from .kv_cache import reserved_cache
from .model import MossAudioModel

TOKENS_PER_CHUNK = 50  # 4 s at 12.5 audio tokens per second


class ContextFullError(RuntimeError):
    """The prefix would outgrow the model's context."""


@dataclass
class ChunkInputs:
    """What one chunk of audio puts into the LLM, computed once per chunk."""

    index: int  # chunk number on the session clock (chunk k starts at 4 k seconds)
    embeds: torch.Tensor  # [tokens, hidden] audio embeddings (the adapter's output)
    deepstack: torch.Tensor  # [k, tokens, hidden] DeepStack mergers' outputs

    @property
    def tokens(self) -> int:
        """Audio tokens in the chunk (50 for a whole one)."""
        return int(self.embeds.shape[0])

    def ids(self) -> list[int]:
        """Its audio placeholders and absolute time markers."""
        layout = marker_layout(self.index * TOKENS_PER_CHUNK, self.tokens)
        return token_ids(layout, AUDIO_TOKEN_ID, DIGIT_TOKEN_IDS)


class SessionPrefix:
    """A growing KV cache over the session; a question costs only its own tokens."""

    def __init__(
        self, model: MossAudioModel, limit: int | None = None, graphs: bool | None = None
    ) -> None:
        """A prefix over ``model``'s context (or ``limit`` positions).

        ``graphs``: append whole chunks and single tokens through :class:`GraphedAppends`
        (default: on a CUDA device; on a CPU the same forward runs without recording).
        """
        self.model = model
        self.ids: list[int] = []  # every token in the cache (audio as its placeholder)
        self.limit = limit or model.config.max_positions
        self.cache = reserved_cache(model.language_model.config.num_hidden_layers, self.limit)
        if graphs is None:
            graphs = model.lm_head.weight.device.type == "cuda"
        self.appends = GraphedAppends(model, self.cache.layers) if graphs else None

    @property
    def length(self) -> int:
        """Positions the cache holds."""
        return len(self.ids)

    @torch.inference_mode()
    def extend(
        self,
        ids: list[int],
        audio: tuple[torch.Tensor, torch.Tensor] | None = None,
        logits_for: int | None = None,
    ) -> torch.Tensor:
        """Append ``ids`` (audio placeholders filled from ``audio``).

        Returns the logits [n, vocab] of the last ``logits_for`` positions (all of them
        when None); the vocabulary projection is skipped for the rest.
        """
        if not ids:
            raise ValueError("nothing to append")
        if self.length + len(ids) > self.limit:
            raise ContextFullError(
                f"{self.length} + {len(ids)} positions is past the model's {self.limit}"
            )
        device = self.model.lm_head.weight.device
        tensor = torch.tensor([ids], device=device)
        embeds = self.model.language_model.get_input_embeddings()(tensor)
        audio_at = [i for i, token in enumerate(ids) if token == AUDIO_TOKEN_ID]
        if audio is None and audio_at:
            raise ValueError("audio placeholders without audio")
        where = torch.tensor(audio_at, dtype=torch.long, device=device)
        if audio is not None:
            audio_embeds, deepstack = audio
            if audio_embeds.shape[0] != len(audio_at) or deepstack.shape[1] != len(audio_at):
                raise ValueError(f"{len(audio_at)} audio placeholders for "
                                 f"{audio_embeds.shape[0]} audio embeddings")  # fmt: skip
            embeds = embeds.clone()
            embeds[0, where] = audio_embeds.to(embeds.dtype)
        else:
            deepstack = embeds.new_zeros((0, 0, embeds.shape[-1]))
        whole_chunk = audio is not None and len(audio_at) == TOKENS_PER_CHUNK
        if self.appends is not None and (whole_chunk or len(ids) == 1):
            dense = embeds.new_zeros((deepstack.shape[0], len(ids), embeds.shape[-1]))
            dense[:, where] = deepstack.to(embeds.dtype)
            hidden = self.appends.append(embeds, dense, self.length)
        else:
            with self.model.deepstack(tensor == AUDIO_TOKEN_ID, deepstack):
                out = self.model.language_model(
                    inputs_embeds=embeds, cache=self.cache, use_cache=True
                )
            hidden = out.last_hidden_state[0]
        self.ids += ids
        keep = hidden.shape[0] if logits_for is None else logits_for
        return self.model.lm_head(hidden[hidden.shape[0] - keep :])

    def extend_chunk(self, chunk: ChunkInputs) -> None:
        """Append one chunk's audio tokens and markers."""
        self.extend(chunk.ids(), (chunk.embeds, chunk.deepstack), logits_for=0)

    def reset(self) -> None:
        """Hold nothing again (the cache's room, and any graphs over it, are kept)."""
        if self.length:
            self.cache.crop(-self.length)
        self.ids.clear()

    @contextmanager
    def scratch(self) -> Iterator[None]:
        """Whatever is appended inside is cut off again on the way out."""
        keep = self.length
        try:
            yield
        finally:
            if self.length > keep:
                self.cache.crop(keep - self.length)
                del self.ids[keep:]

    @torch.inference_mode()
    def generate(
        self, ids: list[int], max_new_tokens: int, stop: frozenset[int], on_token=None
    ) -> list[int]:
        """Greedy continuation after appending ``ids`` (call inside :meth:`scratch`)."""
        logits = self.extend(ids, logits_for=1)[-1]
        out: list[int] = []
        for _ in range(max_new_tokens):
            token = int(torch.argmax(logits))
            if token in stop:
                break
            out.append(token)
            if on_token is not None:
                on_token(token)
            if self.length + 1 > self.limit:
                break
            logits = self.extend([token], logits_for=1)[-1]
        return out
