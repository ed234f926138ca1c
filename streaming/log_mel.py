"""Whisper's 128-bin log-mel, computed as audio arrives, with a fixed ceiling.

Offline, Whisper's front end (16 kHz, n_fft 400, hop 160, Hann, reflect padding)
clamps every value at the clip's global maximum minus 8 (log10 units). That
maximum is not known until the clip ends, so a live front end cannot use it:
roomtone clamps at a fixed ceiling minus 8 instead (``CEILING``; Voxtral Realtime
does the same with 1.5). Frame ``i`` covers samples ``160 i - 200 .. 160 i + 200``,
so it is final once sample ``160 i + 200`` has arrived; the frames after it are
given provisionally (reflect padding at the current end, as an offline pass over
the audio so far would) and computed again when their audio is complete.
docs/moss-audio.md gives the measured difference from the offline features.
"""

from __future__ import annotations

import numpy as np
from transformers.audio_utils import spectrogram, window_function
from transformers.models.whisper.feature_extraction_whisper import WhisperFeatureExtractor

SAMPLE_RATE = 16000
N_FFT, HOP, MELS = 400, 160, 128
HALF = N_FFT // 2
CEILING = 1.5  # log10 mel power a live front end clamps 8 below (the offline one: clip max)


def _extractor() -> WhisperFeatureExtractor:
    return WhisperFeatureExtractor(
        feature_size=MELS, sampling_rate=SAMPLE_RATE, hop_length=HOP, n_fft=N_FFT
    )


def offline_log_mel(audio: np.ndarray, ceiling: float | None = None) -> np.ndarray:
    """The offline features of a whole clip ([128, len // 160]).

    ``ceiling=None`` is upstream's (clamp at the clip's max - 8); a number clamps at
    ``ceiling - 8`` as the live front end does.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if ceiling is None:
        return _extractor()._np_extract_fbank_features(audio[None], "cpu")[0].astype(np.float32)
    fe = _extractor()
    log = spectrogram(audio, window_function(N_FFT, "hann"), frame_length=N_FFT,
                      hop_length=HOP, power=2.0, mel_filters=fe.mel_filters,
                      log_mel="log10")[:, :-1]  # fmt: skip
    return _scale(log, ceiling)


def _scale(log: np.ndarray, ceiling: float) -> np.ndarray:
    return ((np.maximum(log, ceiling - 8.0) + 4.0) / 4.0).astype(np.float32)


class StreamingLogMel:
    """Log-mel frames of a stream of 16 kHz samples, each final frame computed once."""

    def __init__(self, ceiling: float = CEILING) -> None:
        self.ceiling = ceiling
        self._filters = _extractor().mel_filters
        self._window = window_function(N_FFT, "hann")
        self._x = np.zeros(0, np.float32)  # raw samples from index self._x0 on
        self._x0 = 0
        self.samples = 0  # samples heard
        self.final_frames = 0  # frames that will not change

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Take samples; return the frames they made final ([128, n], maybe n = 0)."""
        self._x = np.concatenate([self._x, np.asarray(samples, np.float32).ravel()])
        self.samples += int(np.asarray(samples).size)
        ready = max(0, (self.samples - HALF) // HOP + 1) if self.samples > HALF else 0
        ready = min(ready, self.samples // HOP)
        if ready <= self.final_frames:
            return np.zeros((MELS, 0), np.float32)
        first = self.final_frames
        frames = self._frames(first, ready, end_pad=False)
        self.final_frames = ready
        keep_from = max(0, min(HOP * ready - HALF, self.samples - HALF - 1))
        if keep_from > self._x0:
            self._x = self._x[keep_from - self._x0 :]
            self._x0 = keep_from
        return frames

    def tail(self) -> np.ndarray:
        """The frames after the final ones, as an offline pass would give them now."""
        total = self.samples // HOP
        if total <= self.final_frames:
            return np.zeros((MELS, 0), np.float32)
        return self._frames(self.final_frames, total, end_pad=True)

    def _frames(self, first: int, stop: int, end_pad: bool) -> np.ndarray:
        """Frames ``first .. stop - 1`` over the reflect-padded signal, as offline pads it."""
        n = self.samples
        last = HOP * (stop - 1) + N_FFT - HALF  # one past the last sample they need
        j = np.arange(HOP * first - HALF, last)
        while j.size and (j.min() < 0 or (end_pad and j.max() >= n)):
            j = np.abs(j)  # before the start: the start reflected
            if end_pad:
                j = np.where(j >= n, 2 * (n - 1) - j, j)  # past the end: the end reflected
        log = spectrogram(self._x[j - self._x0], self._window, frame_length=N_FFT,
                          hop_length=HOP, power=2.0, center=False,
                          mel_filters=self._filters, log_mel="log10")  # fmt: skip
        return _scale(log[:, : stop - first], self.ceiling)
