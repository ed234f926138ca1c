"""llama.cpp (llama-cpp-python) as the assistant's language model, with a cached prefix.

The context holds a growing prefix — the meeting so far — evaluated once. A question
is evaluated after it, answered, and the context is cut back to the prefix, so the
next question (or the next piece of meeting) pays only for its own tokens.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .base import LLMCapabilities, avoided_forms
from .model_files import ModelNotFoundError, gguf_model

_HINT = "pip install llama-cpp-python (built from source: CMAKE_ARGS=-DGGML_NATIVE=OFF)"


class LlamaCppLLM:
    """A local GGUF model; one context whose prefix grows with the meeting."""

    name = "llama.cpp"

    def __init__(
        self,
        model: str | Path = "qwen2.5-coder-1.5b",
        *,
        context_tokens: int = 24_576,
        threads: int | None = None,
        batch: int = 256,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelNotFoundError(f"the language-model runtime is missing; {_HINT}") from exc
        path = gguf_model(str(model))
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=threads or max(1, (os.cpu_count() or 2)),
                n_batch=batch,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelNotFoundError(f"{path} could not be loaded ({exc}); is it corrupt?") from exc
        self.model_path = path
        self.capabilities = LLMCapabilities(prefix_cache=True, context_tokens=context_tokens)
        self._prefix: list[int] = []  # tokens of the cached prefix, evaluated in order
        self._lock = threading.Lock()  # one user of the context at a time
        self._eos = {self._llm.token_eos(), *self._special_stops()}

    @property
    def prefix_tokens(self) -> int:
        """How many tokens the cached prefix holds."""
        return len(self._prefix)

    def tokens(self, text: str) -> list[int]:
        """Tokens of ``text`` (special tokens such as ``<|im_start|>`` recognised)."""
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def extend(self, text: str, chunk: int = 128) -> int:
        """Append ``text`` to the prefix, evaluating only its tokens; returns their count.

        Evaluated ``chunk`` tokens at a time, releasing the context in between, so a
        question never waits for more than one chunk of meeting.
        """
        new = self.tokens(text)
        for i in range(0, len(new), chunk):
            with self._lock:
                self._restore_prefix()
                piece = new[i : i + chunk]
                self._llm.eval(piece)
                self._prefix += piece
        return len(new)

    @property
    def position(self) -> int:
        """Where the prefix ends now; ``rewind`` cuts it back to such a position."""
        return len(self._prefix)

    def rewind(self, position: int) -> None:
        """Cut the prefix back to ``position`` (the tokens after it are dropped, not re-read)."""
        with self._lock:
            self._prefix = self._prefix[:position]
            self._restore_prefix()

    def reset(self, text: str = "") -> None:
        """Start the prefix over (after the memory folded old parts into a summary)."""
        with self._lock:
            self._prefix = []
            self._llm.reset()
        if text:
            self.extend(text)

    def complete(
        self,
        suffix: str,
        max_tokens: int = 256,
        use_prefix: bool = True,
        avoid: tuple[str, ...] = (),
    ) -> Iterator[str]:
        """Stream the answer to prefix + ``suffix`` (greedy); the prefix is kept as it was.

        ``use_prefix=False`` evaluates everything from scratch (the benchmark's
        baseline without a cache). ``avoid``: words never written (their tokens,
        with and without a leading space, as given and capitalised, are excluded).
        """
        from llama_cpp import LogitsProcessorList

        banned = self._word_tokens(avoid)
        processors = LogitsProcessorList([_Exclude(banned)]) if banned else None
        with self._lock:
            if use_prefix:
                self._restore_prefix()
                self._llm.eval(self.tokens(suffix))
            else:
                prefix = list(self._prefix)
                self._llm.reset()
                self._llm.eval(prefix + self.tokens(suffix))
            produced: list[int] = []
            try:
                for _ in range(max_tokens):
                    token = self._llm.sample(temp=0.0, top_k=1, logits_processor=processors)
                    if token in self._eos:
                        break
                    before = self._llm.detokenize(produced).decode("utf-8", errors="ignore")
                    produced.append(token)
                    after = self._llm.detokenize(produced).decode("utf-8", errors="ignore")
                    if len(after) > len(before):
                        yield after[len(before) :]
                    self._llm.eval([token])
            finally:
                self._restore_prefix()

    def _restore_prefix(self) -> None:
        """Cut the context back to the prefix (what a question added is dropped)."""
        if self._llm.n_tokens > len(self._prefix):
            self._llm.n_tokens = len(self._prefix)
        elif self._llm.n_tokens < len(self._prefix):  # the context was reset: rebuild it
            self._llm.n_tokens = 0
            self._llm.eval(self._prefix)

    def _word_tokens(self, words: tuple[str, ...]) -> list[int]:
        """The single tokens that write one of ``words`` (a word split in pieces is rare)."""
        found = set()
        for form in avoided_forms(words):
            for text in (form, " " + form):
                ids = self.tokens(text)
                if len(ids) == 1:
                    found.add(ids[0])
        return sorted(found)

    def _special_stops(self) -> list[int]:
        stops = []
        for text in ("<|im_end|>", "<|endoftext|>"):
            ids = self._llm.tokenize(text.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                stops.append(ids[0])
        return stops


class _Exclude:
    """A llama.cpp logits processor that rules some tokens out."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = np.array(tokens, dtype=np.intp)

    def __call__(self, _input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        scores[self.tokens] = -np.inf
        return scores
