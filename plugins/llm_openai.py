"""An OpenAI-compatible completions endpoint (vLLM, llama.cpp server, Ollama) as the LLM.

For people with a bigger machine: the server keeps its own prefix cache (vLLM's
automatic prefix caching, llama.cpp's ``cache_prompt``), so sending the whole
prefix with each question costs the server only the new tokens. The client keeps
the prefix text and streams the answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Generator

from .base import LLMCapabilities, ModelClosedError, avoided_forms


class EndpointError(ConnectionError):
    """The endpoint could not be reached or answered badly; the message says which."""


def check_reachable(base_url: str, timeout: float = 10.0) -> None:
    """Fail at once, as a missing model file does, when nothing answers at the URL.

    Any HTTP answer counts (not every server lists ``/models``); only no answer fails.
    """
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout):
            pass
    except urllib.error.HTTPError:
        pass
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise EndpointError(f"cannot reach {base_url}: {exc}") from exc


class OpenAICompatibleLLM:
    """Text completions from ``{base_url}/completions`` with streaming."""

    name = "openai-compatible"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        context_tokens: int = 32_768,
        api_key: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self._timeout = timeout
        self._prefix = ""
        self._closed = False
        self.capabilities = LLMCapabilities(prefix_cache=True, context_tokens=context_tokens)
        check_reachable(self.base_url, min(timeout, 10))

    @property
    def prefix_tokens(self) -> int:
        """An estimate (4 characters a token): the server does the real counting."""
        return len(self._prefix) // 4

    def tokens(self, text: str) -> list[int]:
        """A stand-in token list of the estimated length (the server tokenises)."""
        return [0] * (len(text) // 4 + 1)

    def extend(self, text: str) -> int:
        """Append to the prefix (sent with the next request)."""
        self._prefix += text
        return len(self.tokens(text))

    @property
    def position(self) -> int:
        """Where the prefix ends now (characters); ``rewind`` cuts it back to it."""
        return len(self._prefix)

    def rewind(self, position: int) -> None:
        """Cut the prefix back to ``position``."""
        self._prefix = self._prefix[:position]

    def splice(self, start: int, end: int, text: str) -> None:
        """Replace the prefix's characters ``start:end`` with ``text``."""
        self._prefix = self._prefix[:start] + text + self._prefix[end:]

    def reset(self, text: str = "") -> None:
        """Start the prefix over."""
        self._prefix = text

    def close(self) -> None:
        """Ask nothing more of the endpoint (no connection is held between requests)."""
        self._closed = True

    def complete(
        self,
        suffix: str,
        max_tokens: int = 256,
        use_prefix: bool = True,
        avoid: tuple[str, ...] = (),
    ) -> Generator[str, None, None]:
        """Stream the completion of prefix + ``suffix`` (greedy).

        ``avoid`` goes as vLLM's ``bad_words``; servers without it (llama.cpp's,
        Ollama) ignore the field, and the answer is then not held to it.
        """
        if self._closed:
            raise ModelClosedError
        body = {
            "model": self.model,
            "prompt": self._prefix + suffix,
            "max_tokens": max_tokens,
            "temperature": 0,
            "stream": True,
            "stop": ["<|im_end|>", "<|endoftext|>"],
        }
        if avoid:
            body["bad_words"] = avoided_forms(avoid)
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            f"{self.base_url}/completions", json.dumps(body).encode(), headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                for raw in response:
                    line = raw.decode("utf-8", errors="replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        choice = json.loads(data)["choices"][0]
                    except (ValueError, KeyError, IndexError) as exc:
                        raise EndpointError(f"{self.base_url} sent an unreadable chunk") from exc
                    if choice.get("text"):
                        yield choice["text"]
        except urllib.error.HTTPError as exc:
            raise EndpointError(f"{self.base_url} answered HTTP {exc.code}: {exc.reason}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise EndpointError(f"cannot reach {self.base_url}: {exc}") from exc
