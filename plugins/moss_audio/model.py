"""A MOSS-Audio-compatible model on torch + transformers, with the published key names.

``audio_encoder`` (3 stride-2 Conv2d, ``stem_proj``, sinusoidal positions restarting
in every 4 s chunk, Whisper-style pre-LN layers, final LayerNorm), ``audio_adapter``
(SwiGLU into the LLM width), ``deepstack_audio_merger_list`` (one SwiGLU per tapped
encoder layer, added to the outputs of LLM layers 0..k-1 at audio positions),
``language_model`` (transformers' ``Qwen3Model``) and an untied ``lm_head``.

Unlike upstream, the encoder's unit of work is one chunk: every chunk is encoded
alone, so a chunk encoded as soon as its 4 s are complete is exactly the chunk an
offline pass would encode (see :mod:`roomtone.streaming.encoder_cache`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from transformers import Qwen3Model
from transformers.models.whisper.modeling_whisper import WhisperEncoderLayer

from .attention import NAME as GROUPED_SDPA
from .config import MossAudioConfig


def sinusoid_positions(length: int, dim: int, device: torch.device) -> torch.Tensor:
    """Whisper's fixed positions: sines then cosines over log-spaced timescales."""
    step = math.log(10000.0) / (dim // 2 - 1)
    inv = torch.exp(-step * torch.arange(dim // 2, device=device, dtype=torch.float32))
    angles = torch.arange(length, device=device, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def downsampled_length(mel_frames: int) -> int:
    """Audio tokens from ``mel_frames`` after three stride-2 convolutions (8x, rounding up)."""
    for _ in range(3):
        mel_frames = (mel_frames - 1) // 2 + 1
    return mel_frames


class GatedMLP(nn.Module):
    """SwiGLU: ``down(silu(gate(x)) * up(x))``."""

    def __init__(self, size_in: int, hidden: int, size_out: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(size_in, hidden, bias=False)
        self.up_proj = nn.Linear(size_in, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, size_out, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project ``x`` through the gated unit."""
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


@dataclass
class EncodedAudio:
    """Encoder output for some audio: final states and the DeepStack taps, per token."""

    states: torch.Tensor  # [tokens, d_model]
    taps: tuple[torch.Tensor, ...]  # each [tokens, d_model]

    @property
    def tokens(self) -> int:
        """Audio tokens (12.5 per second)."""
        return int(self.states.shape[0])

    @staticmethod
    def join(parts: Sequence[EncodedAudio]) -> EncodedAudio:
        """Several chunks' output, one after the other."""
        taps = tuple(
            torch.cat(group, dim=0) for group in zip(*(p.taps for p in parts), strict=True)
        )
        return EncodedAudio(torch.cat([p.states for p in parts], dim=0), taps)


class AudioEncoder(nn.Module):
    """The conv stem and Whisper-style layers; keys ``audio_encoder.*`` upstream."""

    def __init__(self, config: MossAudioConfig) -> None:
        super().__init__()
        a = config.audio
        self.config = a
        channels = a.downsample_hidden_size
        self.conv1 = nn.Conv2d(1, channels, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=1)
        self.stem_proj = nn.Linear(channels * (a.num_mel_bins // 8), a.d_model)
        whisper = a.whisper()
        whisper._attn_implementation = "sdpa"
        self.layers = nn.ModuleList(WhisperEncoderLayer(whisper) for _ in range(a.encoder_layers))
        self.layer_norm = nn.LayerNorm(a.d_model, eps=a.layer_norm_eps)
        self._taps = {layer: i for i, layer in enumerate(a.deepstack_encoder_layer_indexes)}

    def encode_chunk(self, mel: torch.Tensor) -> EncodedAudio:
        """One chunk of at most ``chunk_frames`` mel frames ([128, T]), encoded alone."""
        if mel.ndim != 2 or mel.shape[0] != self.config.num_mel_bins:
            raise ValueError(f"expected a [128, frames] log-mel chunk, got {tuple(mel.shape)}")
        if not 0 < mel.shape[1] <= self.config.chunk_frames:
            raise ValueError(f"a chunk holds 1 to {self.config.chunk_frames} mel frames")
        states, taps = self._encode_batch(mel[None], [int(mel.shape[1])])
        return EncodedAudio(states[0], tuple(t[0] for t in taps))

    def encode_offline(self, mel: torch.Tensor) -> EncodedAudio:
        """A whole clip the upstream way: cut into chunks, pad, encode in batches."""
        size = self.config.chunk_frames
        pieces = list(mel.split(size, dim=1))
        lengths = [int(p.shape[1]) for p in pieces]
        padded = torch.zeros(len(pieces), mel.shape[0], size, dtype=mel.dtype, device=mel.device)
        for i, piece in enumerate(pieces):
            padded[i, :, : piece.shape[1]] = piece
        parts: list[EncodedAudio] = []
        step = self.config.conv_chunksize
        for first in range(0, len(pieces), step):
            batch = lengths[first : first + step]
            states, taps = self._encode_batch(padded[first : first + step], batch)
            for b, frames in enumerate(batch):
                n = downsampled_length(frames)
                parts.append(EncodedAudio(states[b, :n], tuple(t[b, :n] for t in taps)))
        return EncodedAudio.join(parts)

    def _encode_batch(
        self, mel: torch.Tensor, lengths: list[int]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = mel[:, None].to(self.conv1.weight.dtype)  # [B, 1, mels, frames]
        for conv in (self.conv1, self.conv2, self.conv3):
            x = nn.functional.gelu(conv(x))
        x = self.stem_proj(x.permute(0, 3, 1, 2).flatten(2))  # [B, tokens, d]
        tokens = [downsampled_length(n) for n in lengths]
        x = x[:, : max(tokens)]
        x = x + sinusoid_positions(x.shape[1], x.shape[2], x.device).to(x.dtype)
        mask = None
        if min(tokens) < x.shape[1]:  # padded chunks in the batch: their keys are hidden
            counts = torch.tensor(tokens, device=x.device)[:, None]
            valid = torch.arange(x.shape[1], device=x.device)[None] < counts
            mask = torch.zeros(valid.shape, dtype=x.dtype, device=x.device)
            mask = mask.masked_fill(~valid, torch.finfo(x.dtype).min)[:, None, None, :]
        taps: list[torch.Tensor] = [x] * len(self._taps)
        for index, layer in enumerate(self.layers):
            x = layer(x, mask)
            if index in self._taps:
                taps[self._taps[index]] = x  # before the final LayerNorm
        return self.layer_norm(x), taps


class MossAudioModel(nn.Module):
    """The whole model; its ``state_dict`` keys are the published checkpoints' keys."""

    def __init__(self, config: MossAudioConfig) -> None:
        super().__init__()
        self.config = config
        qwen = config.qwen3()
        qwen._attn_implementation = GROUPED_SDPA
        d_audio, d_llm = config.audio.d_model, qwen.hidden_size
        self.audio_encoder = AudioEncoder(config)
        self.language_model = Qwen3Model(qwen)
        self.audio_adapter = GatedMLP(d_audio, config.adapter_hidden_size, d_llm)
        self.deepstack_audio_merger_list = nn.ModuleList(
            GatedMLP(d_audio, config.adapter_hidden_size, d_llm)
            for _ in range(config.deepstack_layers)
        )
        self.lm_head = nn.Linear(d_llm, qwen.vocab_size, bias=False)

    def audio_inputs(self, encoded: EncodedAudio) -> tuple[torch.Tensor, torch.Tensor]:
        """What audio puts into the LLM: embeddings [tokens, H] and DeepStack [k, tokens, H]."""
        embeds = self.audio_adapter(encoded.states)
        deep = [m(t) for m, t in zip(self.deepstack_audio_merger_list, encoded.taps, strict=False)]
        stacked = torch.stack(deep) if deep else embeds.new_zeros((0, *embeds.shape))
        return embeds, stacked

    @contextmanager
    def deepstack(self, at_audio: torch.Tensor, features: torch.Tensor) -> Iterator[None]:
        """Add ``features[k]`` to LLM layer k's output where ``at_audio`` ([1, n]) is set."""

        def hook(k: int):
            def add(_module: nn.Module, _inputs: object, output: object) -> object:
                hidden = output[0] if isinstance(output, tuple) else output
                assert isinstance(hidden, torch.Tensor)
                hidden = hidden.clone()
                hidden[at_audio] = hidden[at_audio] + features[k].to(hidden.dtype)
                return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

            return add

        layers = self.language_model.layers
        handles = [layers[k].register_forward_hook(hook(k)) for k in range(features.shape[0])]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
