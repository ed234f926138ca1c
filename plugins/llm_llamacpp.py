"""llama.cpp (llama-cpp-python) as the assistant's language model, with a cached prefix.

The context holds a growing prefix — the meeting so far — evaluated once. A question
is evaluated after it, answered, and the context is cut back to the prefix, so the
next question (or the next piece of meeting) pays only for its own tokens. A stretch
of the prefix can be replaced (folded lines by their key lines) without evaluating what
follows it again: the KV cells after it are moved, RoPE positions shifted in place.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Generator
from pathlib import Path

import numpy as np

from .base import LLMCapabilities, ModelClosedError, avoided_forms
from .model_files import ModelNotFoundError, gguf_model

_SCRATCH = 1  # the sequence a spliced text is evaluated in before it joins the prefix
_HINT = "pip install llama-cpp-python (built from source: CMAKE_ARGS=-DGGML_NATIVE=OFF)"


def threads_beside_captions() -> int:
    """Threads for llama.cpp when live captions share the machine: all cores but one.

    Answers came as fast or faster that way beside a live replay (docs/benchmarks.md).
    """
    return max(1, (os.cpu_count() or 2) - 1)


class LlamaCppLLM:
    """A local GGUF model; one context whose prefix grows with the meeting."""

    name = "llama.cpp"

    def __init__(
        self,
        model: str | Path = "qwen2.5-coder-1.5b",
        *,
        context_tokens: int = 8_192,
        threads: int | None = None,
        batch_threads: int | None = None,
        batch: int = 256,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelNotFoundError(f"the language-model runtime is missing; {_HINT}") from exc
        path = gguf_model(str(model))
        cores = max(1, os.cpu_count() or 2)
        self._threads = (threads or cores, batch_threads or cores)
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=self._threads[0],
                n_threads_batch=self._threads[1],
                n_batch=batch,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelNotFoundError(f"{path} could not be loaded ({exc}); is it corrupt?") from exc
        self._add_scratch_sequence()
        self.model_path = path
        self.capabilities = LLMCapabilities(prefix_cache=True, context_tokens=context_tokens)
        self._prefix: list[int] = []  # tokens of the cached prefix, evaluated in order
        self._lock = threading.Lock()  # one user of the context at a time
        self._vocab_lock = threading.Lock()  # tokenising, which needs only the model
        self._closed = False
        self._eos = {self._llm.token_eos(), *self._special_stops()}

    @contextlib.contextmanager
    def _held(self) -> Generator[None, None, None]:
        """The context, for this caller alone (ModelClosedError once the model is freed)."""
        with self._lock:
            if self._closed:
                raise ModelClosedError
            yield

    def close(self) -> None:
        """Free the model and its context, once whoever is using them has finished."""
        with self._lock, self._vocab_lock:
            if not self._closed:
                self._closed = True
                self._llm.close()

    @property
    def threads(self) -> tuple[int, int]:
        """CPU threads that generate (one token at a time) and that evaluate prompts."""
        return self._threads

    def set_threads(self, generate: int, evaluate: int) -> None:
        """Use ``generate`` threads to write answers and ``evaluate`` to read prompts."""
        if min(generate, evaluate) < 1:
            raise ValueError(f"threads must be at least 1, not {generate}/{evaluate}")
        with self._held():
            self._llm._ctx.set_n_threads(generate, evaluate)
            self._threads = (generate, evaluate)

    @property
    def prefix_tokens(self) -> int:
        """How many tokens the cached prefix holds."""
        return len(self._prefix)

    def tokens(self, text: str) -> list[int]:
        """Tokens of ``text`` (special tokens such as ``<|im_start|>`` recognised)."""
        with self._vocab_lock:  # not while close() frees the model; nor waits for the context
            if self._closed:
                raise ModelClosedError
            return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def extend(self, text: str, chunk: int = 128) -> int:
        """Append ``text`` to the prefix, evaluating only its tokens; returns their count.

        Evaluated ``chunk`` tokens at a time, releasing the context in between, so a
        question never waits for more than one chunk of meeting.
        """
        new = self.tokens(text)
        for i in range(0, len(new), chunk):
            with self._held():
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
        with self._held():
            self._prefix = self._prefix[:position]
            self._restore_prefix()

    def splice(self, start: int, end: int, text: str) -> None:
        """Replace the prefix's tokens ``start:end`` with ``text``; what follows is kept.

        Only ``text`` is evaluated: in a scratch sequence that shares the cells before
        ``start`` (so it reads what stands before it, and nothing after), at the
        positions it will have. The tokens after ``end`` keep their cached keys and
        values (computed when the replaced tokens stood before them), moved to follow
        ``text`` by shifting their positions (llama.cpp re-rotates their RoPE keys).
        """
        if not 0 <= start <= end <= len(self._prefix):
            raise ValueError(f"cannot splice {start}:{end} of a {len(self._prefix)}-token prefix")
        new = self.tokens(text)
        room = self.capabilities.context_tokens
        if len(self._prefix) + len(new) > room:  # the old tokens stay until the new are read
            raise RuntimeError(
                f"a splice of {len(new)} tokens into a {len(self._prefix)}-token prefix does"
                f" not fit the model's {room}-token context"
            )
        with self._held():
            self._restore_prefix()
            context = self._llm._ctx  # the KV-cache calls live on llama-cpp-python's context
            context.kv_cache_seq_cp(0, _SCRATCH, 0, start)
            try:  # a decode that fails leaves the prefix as it was
                self._decode_at(new, start, _SCRATCH)
                context.kv_cache_seq_rm(0, start, end)
                context.kv_cache_seq_shift(0, end, len(self._prefix), start + len(new) - end)
                context.kv_cache_seq_cp(_SCRATCH, 0, start, start + len(new))
            finally:
                context.kv_cache_seq_rm(_SCRATCH, -1, -1)
            self._prefix = self._prefix[:start] + new + self._prefix[end:]
            self._llm.n_tokens = len(self._prefix)
            self._llm.input_ids[: len(self._prefix)] = self._prefix

    def _decode_at(self, tokens: list[int], position: int, sequence: int) -> None:
        """Evaluate ``tokens`` into ``sequence`` from ``position`` on."""
        batch = self._llm._batch
        raw = batch.batch
        for i in range(0, len(tokens), self._llm.n_batch):
            piece = tokens[i : i + self._llm.n_batch]
            raw.n_tokens = len(piece)
            for j, token in enumerate(piece):
                raw.token[j], raw.pos[j], raw.n_seq_id[j] = token, position + i + j, 1
                raw.seq_id[j][0], raw.logits[j] = sequence, j == len(piece) - 1
            self._llm._ctx.decode(batch)

    def reset(self, text: str = "") -> None:
        """Start the prefix over with ``text``."""
        with self._held():
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
    ) -> Generator[str, None, None]:
        """Stream the answer to prefix + ``suffix`` (greedy); the prefix is kept as it was.

        ``use_prefix=False`` evaluates everything from scratch (the benchmark's
        baseline without a cache). ``avoid``: words never written (their tokens,
        with and without a leading space, as given and capitalised, are excluded).
        """
        from llama_cpp import LogitsProcessorList

        banned = self._word_tokens(avoid)
        processors = LogitsProcessorList([_Exclude(banned)]) if banned else None
        with self._held():
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

    def _add_scratch_sequence(self) -> None:
        """Give the context a second sequence sharing its one KV buffer (for ``splice``).

        llama-cpp-python's ``Llama`` makes a one-sequence context; this one replaces it
        with the same settings and two sequences in one unified cache (same size).
        """
        from llama_cpp._internals import LlamaContext

        params = self._llm.context_params
        params.n_seq_max, params.kv_unified = _SCRATCH + 1, True
        single = self._llm._ctx
        context = LlamaContext(model=self._llm._model, params=params, verbose=False)
        self._llm._ctx = self._llm._stack.enter_context(contextlib.closing(context))
        single.close()

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
