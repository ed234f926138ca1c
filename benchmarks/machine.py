"""Describe the machine a benchmark ran on, and write its results."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def describe() -> dict[str, Any]:
    """Cores, CPU model, memory and GPU (if any)."""
    cpu = platform.processor() or ""
    info: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    cpu = info.get("model name", cpu)
    # a VM's "AMD EPYC" names no generation: family/model and the vector width do
    known = "cpu family" in info and "model" in info  # x86 names both; others neither
    generation = f"family {info['cpu family']} model {info['model']}" if known else None
    flags = set(info.get("flags", "").split())
    vectors = next((f for f in ("avx512f", "avx2", "avx") if f in flags), None)
    mem_gb = None
    with contextlib.suppress(ValueError, OSError):
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    gpu = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        gpu = (
            subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            or None
        )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "cpu_generation": generation,
        "widest_vectors": vectors,
        "memory_gb": mem_gb,
        "gpu": gpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """``benchmarks/results/<name>.json`` with the machine described."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": describe(), **payload}, indent=1) + "\n")
    return path


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """A plain aligned table on stdout."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
