"""A MOSS-Audio checkpoint's ``config.json``, read and checked before any weight is built.

The published layout: ``audio_config`` (the Whisper-style encoder), ``language_config``
(a Qwen3 config), ``adapter_hidden_size`` (the SwiGLU adapter and DeepStack mergers)
and ``deepstack_num_inject_layers``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from transformers import Qwen3Config, WhisperConfig

AUDIO_TOKEN_ID = 151654  # <|AUDIO|>
AUDIO_BOS_ID = 151669  # <|audio_bos|>
AUDIO_EOS_ID = 151670  # <|audio_eos|>
DIGIT_TOKEN_IDS = tuple(range(15, 25))  # "0".."9" in the Qwen vocabulary


class ConfigError(ValueError):
    """The configuration is not a MOSS-Audio configuration roomtone can run."""


@dataclass(frozen=True)
class EncoderConfig:
    """The audio encoder: conv stem, Whisper-style layers, DeepStack taps."""

    d_model: int = 1280
    output_dim: int = 1280
    num_mel_bins: int = 128
    encoder_layers: int = 32
    encoder_attention_heads: int = 20
    encoder_ffn_dim: int = 5120
    downsample_hidden_size: int = 480
    max_source_positions: int = 1500
    activation_function: str = "gelu"
    layer_norm_eps: float = 1e-5
    n_window: int = 200  # a chunk is 2 * n_window mel frames (4 s)
    conv_chunksize: int = 64
    deepstack_encoder_layer_indexes: tuple[int, ...] = (8, 16, 24)

    @property
    def chunk_frames(self) -> int:
        """Mel frames (10 ms each) encoded together, independently of the rest."""
        return 2 * self.n_window

    def whisper(self) -> WhisperConfig:
        """The WhisperConfig its encoder layers are built from (eval: no dropout)."""
        return WhisperConfig(
            d_model=self.d_model,
            encoder_attention_heads=self.encoder_attention_heads,
            encoder_ffn_dim=self.encoder_ffn_dim,
            activation_function=self.activation_function,
            dropout=0.0,
            attention_dropout=0.0,
            activation_dropout=0.0,
        )


@dataclass(frozen=True)
class MossAudioConfig:
    """The whole model: encoder, adapter width, DeepStack depth and the Qwen3 LLM."""

    audio: EncoderConfig = field(default_factory=EncoderConfig)
    language: dict[str, Any] = field(default_factory=dict)  # Qwen3Config fields
    adapter_hidden_size: int = 8192
    deepstack_num_inject_layers: int | None = None

    @property
    def deepstack_layers(self) -> int:
        """How many LLM layers get DeepStack features added to their output."""
        k = len(self.audio.deepstack_encoder_layer_indexes)
        if self.deepstack_num_inject_layers is not None:
            k = min(k, self.deepstack_num_inject_layers)
        return k

    def qwen3(self) -> Qwen3Config:
        """The language model's configuration."""
        return Qwen3Config(**self.language)

    @property
    def max_positions(self) -> int:
        """Context length of the LLM (40,960 in the published checkpoints)."""
        return int(self.language.get("max_position_embeddings", 40960))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MossAudioConfig:
        """Read and check a config.json's contents."""
        if not isinstance(raw, dict):
            raise ConfigError("config.json must hold a JSON object")
        kind = raw.get("model_type")
        if kind not in (None, "moss_audio"):
            raise ConfigError(f"config.json is for a {kind!r} model, not moss_audio")
        audio, language = raw.get("audio_config"), raw.get("language_config")
        if not isinstance(audio, dict) or not isinstance(language, dict):
            raise ConfigError("config.json needs audio_config and language_config objects")
        known = {f.name for f in fields(EncoderConfig)}
        picked = {k: v for k, v in audio.items() if k in known}
        if "deepstack_encoder_layer_indexes" in picked:
            picked["deepstack_encoder_layer_indexes"] = tuple(
                picked["deepstack_encoder_layer_indexes"] or ()
            )
        try:
            encoder = EncoderConfig(**picked)
        except TypeError as exc:
            raise ConfigError(f"audio_config: {exc}") from exc
        config = cls(
            audio=encoder,
            language=dict(language),
            adapter_hidden_size=int(raw.get("adapter_hidden_size", 8192)),
            deepstack_num_inject_layers=raw.get("deepstack_num_inject_layers"),
        )
        config.check()
        return config

    @classmethod
    def from_file(cls, path: str | Path) -> MossAudioConfig:
        """Read ``config.json`` (or the directory holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / "config.json"
        if not path.is_file():
            raise ConfigError(f"no config.json at {path}")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
        return cls.from_dict(raw)

    def to_dict(self) -> dict[str, Any]:
        """The config.json contents, in the published layout."""
        audio = asdict(self.audio)
        audio["deepstack_encoder_layer_indexes"] = list(audio["deepstack_encoder_layer_indexes"])
        return {
            "model_type": "moss_audio",
            "architectures": ["MossAudioModel"],
            "audio_config": audio,
            "language_config": dict(self.language),
            "adapter_hidden_size": self.adapter_hidden_size,
            "deepstack_num_inject_layers": self.deepstack_num_inject_layers,
        }

    def check(self) -> None:
        """Shapes that cannot work raise :class:`ConfigError` with the reason."""
        a = self.audio
        if a.num_mel_bins != 128:
            raise ConfigError(f"the encoder expects 128 mel bins, config says {a.num_mel_bins}")
        if a.d_model % a.encoder_attention_heads:
            raise ConfigError("audio d_model must divide by encoder_attention_heads")
        if a.output_dim != a.d_model:
            raise ConfigError("an encoder out_proj (output_dim != d_model) is not supported")
        if any(not 0 <= i < a.encoder_layers for i in a.deepstack_encoder_layer_indexes):
            raise ConfigError("deepstack_encoder_layer_indexes must name encoder layers")
        try:
            qwen = self.qwen3()
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"language_config: {exc}") from exc
        if self.deepstack_layers > qwen.num_hidden_layers:
            raise ConfigError("more DeepStack layers than the language model has")
        if qwen.vocab_size <= AUDIO_EOS_ID:
            raise ConfigError(f"vocab_size {qwen.vocab_size} has no room for the audio tokens")


def tiny_config(vocab_size: int = 151936) -> MossAudioConfig:
    """A small random-weight configuration with the real structure (tests, CPU benchmarks)."""
    return MossAudioConfig(
        audio=EncoderConfig(
            d_model=64,
            output_dim=64,
            encoder_layers=4,
            encoder_attention_heads=4,
            encoder_ffn_dim=128,
            downsample_hidden_size=16,
            deepstack_encoder_layer_indexes=(0, 1, 2),
        ),
        language={
            "vocab_size": vocab_size,
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 4,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 16,
            "rope_theta": 1_000_000.0,
            "max_position_embeddings": 40960,
            "tie_word_embeddings": False,
        },
        adapter_hidden_size=128,
    )
