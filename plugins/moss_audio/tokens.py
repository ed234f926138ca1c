"""Qwen token ids for the audio-LLM's prompts: the checkpoint's tokenizer, or a GGUF's vocabulary.

A MOSS-Audio checkpoint directory carries its Qwen3 tokenizer files. Qwen2.5 and
Qwen3 share one byte-level BPE vocabulary and chat tokens, so the vocabulary inside
the bundled Qwen2.5 GGUF (``roomtone[llm]``) tokenizes prompts identically; it lets
the runtime be tested offline with random weights and no checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from .checkpoint import HOW_TO_GET, CheckpointError


class CheckpointTokenizer:
    """The tokenizer files in a checkpoint directory (transformers, local files only)."""

    def __init__(self, directory: str | Path) -> None:
        from transformers import AutoTokenizer

        try:
            self._tok = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"no tokenizer in {directory}: {HOW_TO_GET}") from exc

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; chat tokens such as ``<|im_start|>`` are parsed."""
        return list(self._tok.encode(text, add_special_tokens=False))

    def decode(self, ids: list[int]) -> str:
        """Text of ``ids``."""
        return str(self._tok.decode(ids, skip_special_tokens=True))


class GGUFVocabulary:
    """The Qwen vocabulary of a GGUF file, loaded without its weights (llama.cpp)."""

    def __init__(self, path: str | Path) -> None:
        from llama_cpp import Llama

        self._llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
        self._size = self._llm.n_vocab()

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``; chat tokens such as ``<|im_start|>`` are parsed."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def decode(self, ids: list[int]) -> str:
        """Text of ``ids`` (ids outside this vocabulary are left out)."""
        known = [i for i in ids if 0 <= i < self._size]
        return self._llm.detokenize(known).decode("utf-8", errors="replace")
