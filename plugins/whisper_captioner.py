"""Whisper (faster-whisper / CTranslate2) as a window recogniser with word timestamps.

Whisper is trained on 30 s windows, and faster-whisper pads every call to 30 s, so a
live update would cost a whole 30 s encoder pass. CTranslate2 accepts shorter
feature sequences, so here each window is encoded at its own length: the cost of
an update follows the window (bounded by the streaming adapter), not the meeting.
"""

from __future__ import annotations

import os
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import merge_punctuations

from ..streaming.committer import word_key
from ..streaming.records import Word
from .base import RecognizerCapabilities
from .model_files import whisper_model_dir

_PREPEND_PUNCTUATION = "\"'“¿([{-"
_APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"

# A window with no speech in it: Whisper's no-speech probability is high and the
# text it makes up anyway is unlikely.
_NO_SPEECH_PROB = 0.6
_NO_SPEECH_LOGPROB = -1.0

# Whisper tokens per second of speech are about 3 to 4; more means a repetition loop.
_MAX_TOKENS_PER_SECOND = 6
_REVISION_BEAM = 5
_REVISION_PASSES = 3  # a window that ended early is read on from its last word, this often
_REVISION_MIN_REST = 2.0  # seconds left after the last word worth reading again


class WhisperCaptioner:
    """A faster-whisper model recognising one audio window at a time."""

    name = "whisper"

    def __init__(
        self,
        model: str = "tiny.en",
        *,
        revise_model: str | None = "base",
        compute_type: str = "int8",
        cpu_threads: int = 1,
        beam_size: int = 1,
    ) -> None:
        """``model`` reads the live windows, ``revise_model`` (None: the same) the blocks."""
        model_dir: Path = whisper_model_dir(model)
        revise_dir = whisper_model_dir(revise_model) if revise_model else model_dir
        # One thread by default: an update costs the least CPU single-threaded, and the
        # other core stays free for VAD, the pipeline and the other engines.
        threads = cpu_threads or min(4, os.cpu_count() or 1)
        self.model_dir = model_dir

        def load(directory: Path) -> WhisperModel:
            return WhisperModel(
                str(directory),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=threads,
                local_files_only=True,
            )

        self._whisper = load(model_dir)
        # Revisions run on their own instance, so they run beside live updates, not
        # between them (CTranslate2 serialises the calls to one model instance); by
        # default on Whisper base, which the second pass can afford: it reads each
        # block once (RTF ~0.09 on one core, beam 5) and hears names and words tiny.en
        # mishears ("Malek" for Malik, "I won't let" for "I'll let").
        self.revise_dir = revise_dir
        self._reviser = load(revise_dir)
        multilingual = self._whisper.model.is_multilingual
        self._tokenizer = Tokenizer(
            self._whisper.hf_tokenizer,
            multilingual,
            task="transcribe",
            language="en" if multilingual else None,
        )
        self._beam_size = beam_size
        self._tail_pad = np.zeros(16_000, dtype=np.float32)
        self.capabilities = RecognizerCapabilities(
            streaming=False,
            partials=False,
            word_timestamps=True,
            languages=("en",) if not multilingual else ("en", "multilingual"),
        )

    def transcribe(self, audio: np.ndarray, offset: float, prefix: str = "") -> list[Word]:
        """Words in ``audio`` after ``prefix``, timed on the session clock.

        ``offset`` is the session time of sample 0. ``prefix`` is text already
        committed for the start of this window: it is forced, not re-decoded, so an
        update only pays for the new words.
        """
        if audio.size < 1600:  # under 0.1 s: nothing Whisper can read
            return []
        # A little trailing silence tells Whisper the audio ends here; without it a
        # window cut mid-sentence sends the decoder into repetition loops.
        padded = np.concatenate([audio.astype(np.float32, copy=False), self._tail_pad])
        features = self._whisper.feature_extractor(padded)
        num_frames = features.shape[-1]
        encoder_output = self._whisper.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])),
            to_cpu=False,
        )
        forced = self._tokenizer.encode(" " + prefix.strip()) if prefix.strip() else []
        prompt = self._whisper.get_prompt(self._tokenizer, [], without_timestamps=True) + forced
        seconds = audio.size / 16_000
        result = self._whisper.model.generate(
            encoder_output,
            [prompt],
            beam_size=self._beam_size,
            # CTranslate2 counts this limit in a way that allows about half as many
            # new tokens; Whisper says 3-4 tokens a second.
            max_length=2 * (len(prompt) + 8 + int(_MAX_TOKENS_PER_SECOND * seconds)),
            suppress_blank=True,
            suppress_tokens=[-1],
            return_scores=True,
            return_no_speech_prob=True,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        if forced and tokens[: len(forced)] == forced:
            tokens = tokens[len(forced) :]
        if not tokens:
            return []
        avg_logprob = result.scores[0] / (len(tokens) + 1)
        if result.no_speech_prob > _NO_SPEECH_PROB and avg_logprob < _NO_SPEECH_LOGPROB:
            return []
        alignment = self._whisper.find_alignment(
            self._tokenizer, [forced + tokens], encoder_output, num_frames
        )[0]
        new_words = spoken_words(alignment)[self._count_words(forced) :]
        return cut_loops(heard_words(new_words, offset, seconds), prefix)

    def transcribe_offline(self, audio: np.ndarray) -> str:
        """A whole recording at once (beam 5, no VAD): the bar live captions are held to."""
        segments, _ = self._whisper.transcribe(
            audio, beam_size=5, condition_on_previous_text=False, vad_filter=False, language="en"
        )
        return " ".join(s.text for s in segments)

    def revise(self, audio: np.ndarray, offset: float) -> list[Word]:
        """Every word in a block (up to 30 s), read as offline transcription reads it.

        The whole block is one Whisper window (padded to 30 s, as in training), with
        beam search, so the words get the context that short live windows lack.
        Temperature stays 0 so that a replay gives the same result every time. In
        noise Whisper sometimes ends a window early ("Before we go on, no," and
        nothing for the 20 s after, or a loop of "no, no, no" that is cut): then the
        rest is read again from the last word kept, as offline decoding moves on.
        """
        words: list[Word] = []
        position = 0
        for _ in range(_REVISION_PASSES):
            rest = audio[position:]
            if rest.size < _REVISION_MIN_REST * 16_000:
                break
            found = cut_loops(self._revise_window(rest, offset + position / 16_000), "")
            if not found:
                break
            words += found
            position = round((found[-1].end - offset) * 16_000)
        return words

    def _revise_window(self, audio: np.ndarray, offset: float) -> list[Word]:
        segments, _ = self._reviser.transcribe(
            audio,
            language=None if not self._reviser.model.is_multilingual else "en",
            beam_size=_REVISION_BEAM,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            word_timestamps=True,
        )
        pieces = [
            {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
            for segment in segments
            for w in segment.words or []
        ]
        return heard_words(spoken_words(pieces), offset, audio.size / 16_000)

    def _count_words(self, forced: list[int]) -> int:
        """How many aligned words the forced prefix tokens account for."""
        if not forced:
            return 0
        words, _ = self._tokenizer.split_to_word_tokens([*forced, self._tokenizer.eot])
        pieces = [
            {"word": w, "tokens": [], "start": 0.0, "end": 0.0, "probability": 1.0}
            for w in words[:-1]
        ]
        return len(spoken_words(pieces))


def spoken_words(alignment: list[dict]) -> list[dict]:
    """Whisper's aligned pieces as words: punctuation attached, pieces without a space joined.

    Whisper splits "$1.2" into " $1" and ".2" and "on-call" into " on" and "-call";
    a piece that does not start with a space continues the word before it.
    """
    merge_punctuations(alignment, _PREPEND_PUNCTUATION, _APPEND_PUNCTUATION)
    words: list[dict] = []
    for piece in alignment:
        text = piece["word"]
        if not text.strip():
            continue
        if words and not text.startswith(" "):
            last = words[-1]
            probability = min(last["probability"], piece["probability"])
            words[-1] = {
                **last,
                "word": last["word"] + text,
                "end": piece["end"],
                "probability": probability,
            }
        else:
            words.append(dict(piece))
    return words


def heard_words(aligned: list[dict], offset: float, seconds: float) -> list[Word]:
    """Aligned words on the session clock, up to the end of the audio actually heard.

    ``offset`` is the session time of the audio's first sample and ``seconds`` its
    length; a word aligned into the padding after it was made up, not heard.
    """
    words = []
    for item in aligned:
        start = offset + float(item["start"])
        if start >= offset + seconds - 0.02:
            break
        end = min(max(start, offset + float(item["end"])), offset + seconds)
        words.append(Word(item["word"].strip(), start, end, float(item["probability"])))
    return words


def cut_loops(words: list[Word], prefix: str, span: int = 4) -> list[Word]:
    """Cut a decoder loop: stop where the hypothesis starts repeating itself or the prefix.

    Whisper sometimes re-emits a phrase it already produced (the forced prefix or its
    own output) instead of ending. A run of ``span`` words seen before in the same
    window is taken as that loop, as is a short phrase said three times running.
    """
    seen = [word_key(t) for t in prefix.split()]
    keys = [word_key(w.text) for w in words]
    grams = {tuple(seen[i : i + span]) for i in range(len(seen) - span + 1)}
    for i in range(len(keys)):
        if i + span <= len(keys) and tuple(keys[i : i + span]) in grams:
            return words[:i]
        for n in range(1, span):
            if i + 3 * n <= len(keys) and (
                keys[i : i + n] == keys[i + n : i + 2 * n] == keys[i + 2 * n : i + 3 * n]
            ):
                return words[: i + n]
        if i + span <= len(keys):
            grams.add(tuple(keys[i : i + span]))
    return words
