"""Whole chunks and single tokens appended to the session prefix by CUDA graph replay.

On a GPU, appending one 4 s chunk (about 60 positions) to the prefix of a 4B LLM is
bound by Python and kernel launches more than by the GPU: measured on an H200 in
eager mode, 40-120 ms per chunk for some 2 ms of weights to read. A CUDA graph records
the whole append (rotary positions, mask, every layer with its cache write and its
DeepStack addition, final norm) once per append length and replays it in one launch.

A graph must see the same buffers every time, so the cache reserves the whole
context up front (:meth:`ReservedLayer.reserve_all`) and each replay attends to all
of it, with a mask that hides every position after the ones being appended: one
graph serves any session length, at a cost that does not grow with the session
(measured on an H200 at MOSS-Audio-4B's shapes: 46-47 ms per chunk from minute 0 to
40, most of it attention over the 40,960 reserved positions; 11.6 ms per generated
token).

Whole chunks come in a few lengths (the time markers' digits change) and generated
tokens in one, so only a handful of graphs are ever captured; anything else (a
question, a partial chunk, a long prefill) runs eagerly on the same cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .kv_cache import ReservedLayer
from .model import MossAudioModel


@dataclass
class _Captured:
    """One append length's graph and the buffers it reads and writes."""

    graph: torch.cuda.CUDAGraph | None
    embeds: torch.Tensor  # [1, L, hidden]
    deepstack: torch.Tensor  # [k, L, hidden], zero away from audio positions
    positions: torch.Tensor  # [1, L] absolute positions of the appended tokens
    out: torch.Tensor | None = None  # [1, L, hidden] after the final norm


class _RoomWriter:
    """The cache as the LLM's layers see it inside a graph: writes at the positions given."""

    def __init__(self, layers: list[ReservedLayer], positions: torch.Tensor) -> None:
        self.layers, self.positions = layers, positions

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args, **kwargs
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write this layer's new keys and values in place; the whole room back."""
        return self.layers[layer_idx].write_at(self.positions[0], key_states, value_states)


class GraphedAppends:
    """Appends of a few lengths to a prefix whose cache holds the whole context."""

    def __init__(
        self, model: MossAudioModel, layers: list[ReservedLayer], record: bool | None = None
    ) -> None:
        config = model.language_model.config
        device = model.lm_head.weight.device
        self.record = device.type == "cuda" if record is None else record
        if self.record and device.type != "cuda":
            raise ValueError("CUDA graphs need the model on a CUDA device")
        self.model, self.layers = model, layers
        dtype = model.lm_head.weight.dtype
        for layer in layers:
            layer.reserve_all((1, config.num_key_value_heads, config.head_dim), dtype, device)
        self.room = torch.arange(layers[0].reserved, device=device)
        self.deepstack_layers = model.config.deepstack_layers
        self.captured: dict[int, _Captured] = {}

    def append(self, embeds: torch.Tensor, deepstack: torch.Tensor, start: int) -> torch.Tensor:
        """Append ``embeds`` [1, L, H] at position ``start``; the normed hidden states [L, H].

        ``deepstack`` is [k, L, H], zero where no audio is (k <= the model's DeepStack
        layers). The result is the graph's own buffer, valid until the next append.
        """
        length = embeds.shape[1]
        if start + length > self.layers[0].reserved:
            raise ValueError(f"{start} + {length} positions is past the reserved context")
        captured = self.captured.get(length)
        if captured is None:
            captured = self.captured[length] = self._buffers(length, embeds)
        captured.embeds.copy_(embeds)
        captured.deepstack.zero_()
        captured.deepstack[: deepstack.shape[0]].copy_(deepstack)
        captured.positions.copy_(torch.arange(start, start + length, device=embeds.device))
        if not self.record:  # the same forward, run eagerly (how it is tested on a CPU)
            captured.out = self._forward(captured)
        else:
            if captured.graph is None:
                self._capture(captured)
            assert captured.graph is not None
            captured.graph.replay()
        assert captured.out is not None
        for layer in self.layers:
            layer.filled_to(start + length)
        return captured.out[0]

    def _buffers(self, length: int, like: torch.Tensor) -> _Captured:
        hidden = like.shape[-1]
        return _Captured(
            graph=None,
            embeds=like.new_zeros((1, length, hidden)),
            deepstack=like.new_zeros((self.deepstack_layers, length, hidden)),
            positions=torch.zeros((1, length), dtype=torch.long, device=like.device),
        )

    def _capture(self, captured: _Captured) -> None:
        """Warm up on a side stream (the append's writes are idempotent), then record.

        The capture holds only this thread to its rules, so CUDA work of other threads
        in the process (other models) does not break it; the session's own feeding and
        asking are serialised by its lock.
        """
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            self._forward(captured)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            captured.out = self._forward(captured)
        captured.graph = graph

    def _forward(self, captured: _Captured) -> torch.Tensor:
        """The LLM over the appended positions, attending to the whole reserved room."""
        language = self.model.language_model
        x, positions = captured.embeds, captured.positions
        rotary = language.rotary_emb(x, positions)
        visible = (self.room[None, :] <= positions[0][:, None])[None, None]  # [1, 1, L, room]
        writer = _RoomWriter(self.layers, positions)
        for k, layer in enumerate(language.layers):
            x = layer(
                x,
                attention_mask=visible,
                position_ids=positions,
                cache=writer,
                position_embeddings=rotary,
            )
            if k < self.deepstack_layers:
                x = x + captured.deepstack[k]
        return language.norm(x)
