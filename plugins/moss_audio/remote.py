"""MOSS-Audio served by vLLM (OpenAI-compatible chat API), for teams that scale out.

vLLM runs MOSS-Audio natively and shares GPUs between many meetings, but it keeps
no per-meeting audio prefix: each request carries its own audio. So the remote
engine sends every 4 s chunk (with ``context_seconds`` of the audio before it, for
words cut at the edge) as a WAV in a chat message, asks the same line-format
question as the local engine about the chunk's last 4 s, and turns the reply into
the same records. Questions over the whole meeting go to the CPU tier's text
assistant, whose memory holds these captions.

    vllm serve OpenMOSS-Team/MOSS-Audio-4B-Instruct --trust-remote-code
    roomtone live --mic --backend moss-audio-remote --endpoint http://127.0.0.1:8000/v1
"""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
import wave

import numpy as np

from ...streaming.records import Record
from ..base import AnalyzerCapabilities
from ..llm_openai import EndpointError, check_reachable
from .engine import CHUNK_SECONDS, PROMPT, parse_report, records_for

SAMPLE_RATE = 16000


def wav_bytes(samples: np.ndarray) -> bytes:
    """16 kHz mono 16-bit WAV of float samples."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def chat_request(model: str, audio: np.ndarray, prompt: str, max_tokens: int) -> dict:
    """The chat-completions body: the audio as a WAV data URL, then the prompt."""
    data = base64.b64encode(wav_bytes(audio)).decode("ascii")
    content = [
        {"type": "audio_url", "audio_url": {"url": f"data:audio/wav;base64,{data}"}},
        {"type": "text", "text": prompt},
    ]
    return {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "max_tokens": max_tokens,
        "temperature": 0.0,
    }


class RemoteMossAudioEngine:
    """Sends each completed chunk to a vLLM server; same records as the local engine."""

    name = "moss-audio-remote"
    capabilities = AnalyzerCapabilities(events=("caption", "speaker", "emotion", "sound"))

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        context_seconds: float = 4.0,
        timeout: float = 30.0,
        max_tokens: int = 96,
    ) -> None:
        self.base_url, self.model = base_url.rstrip("/"), model
        self._api_key, self._timeout, self.max_tokens = api_key, timeout, max_tokens
        self.context = int(context_seconds * SAMPLE_RATE)
        self.chunk = int(CHUNK_SECONDS * SAMPLE_RATE)
        self._audio = np.zeros(0, np.float32)  # context + the chunk being filled
        self._audio_start = 0  # session sample of self._audio[0]
        self._next = 0  # the next chunk starts here
        check_reachable(self.base_url, min(timeout, 10))

    def feed(self, samples: np.ndarray, start_sample: int) -> list[Record]:
        """Records for every chunk this audio completed."""
        if start_sample != self._audio_start + self._audio.size:  # a gap: start afresh there
            self._audio, self._audio_start = np.zeros(0, np.float32), start_sample
            self._next = start_sample
        self._audio = np.concatenate([self._audio, np.asarray(samples, np.float32)])
        records: list[Record] = []
        while self._audio_start + self._audio.size >= self._next + self.chunk:
            records += self._describe(self._next, self._next + self.chunk)
            self._next += self.chunk
            drop = max(0, self._next - self.context - self._audio_start)
            self._audio, self._audio_start = self._audio[drop:], self._audio_start + drop
        return records

    def finish(self) -> list[Record]:
        """The last, incomplete chunk."""
        end = self._audio_start + self._audio.size
        return self._describe(self._next, end) if end > self._next else []

    def _describe(self, start: int, end: int) -> list[Record]:
        window = self._audio[
            max(0, start - self.context - self._audio_start) : end - self._audio_start
        ]
        offset = (end - start) / SAMPLE_RATE
        lead = window.size / SAMPLE_RATE - offset  # seconds of context before the chunk
        prompt = PROMPT.format(start=round(lead), end=round(lead + offset))
        reply = self._complete(chat_request(self.model, window, prompt, self.max_tokens))
        key = f"{start // self.chunk}"
        return records_for(parse_report(reply), key, start / SAMPLE_RATE, end / SAMPLE_RATE)

    def _complete(self, body: dict) -> str:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", json.dumps(body).encode(), headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as reply:
                answer = json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise EndpointError(f"{self.base_url} answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise EndpointError(f"cannot reach {self.base_url}: {exc}") from exc
        try:
            return str(answer["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise EndpointError(f"{self.base_url} sent no chat completion") from exc
