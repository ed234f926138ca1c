"""Loading a MOSS-Audio checkpoint directory (config.json + safetensors) from a local path.

Nothing is downloaded: the user points at a directory they fetched themselves
(``huggingface-cli download OpenMOSS-Team/MOSS-Audio-4B-Instruct --local-dir DIR``).
Keys are checked before any weight is copied: missing, unexpected or mis-shaped
tensors are listed in a :class:`CheckpointError`, and a model whose weights and
full-context key/value cache do not fit the device's free memory is refused with
the numbers (before the load, not 40 minutes into a meeting).
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .config import ConfigError, MossAudioConfig
from .model import MossAudioModel

HOW_TO_GET = (
    "download a MOSS-Audio checkpoint to a local directory (for example "
    "`huggingface-cli download OpenMOSS-Team/MOSS-Audio-4B-Instruct --local-dir DIR`) "
    "and pass --model DIR"
)


class CheckpointError(RuntimeError):
    """The checkpoint cannot be loaded into this model; the message says why."""


def weight_files(directory: Path) -> list[Path]:
    """The safetensors files of a checkpoint (one file, or the shards its index names)."""
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{index} is not a safetensors index: {exc}") from exc
        files = [directory / name for name in shards]
    else:
        files = sorted(directory.glob("*.safetensors"))
    missing = [f for f in files if not f.is_file()]
    if not files or missing:
        raise CheckpointError(f"no safetensors weights in {directory}: {HOW_TO_GET}")
    return files


def parameter_bytes(config: MossAudioConfig, dtype: torch.dtype) -> int:
    """What the weights take in memory, without building the model."""
    with torch.device("meta"):
        model = MossAudioModel(config)
    size = torch.finfo(dtype).bits // 8 if dtype.is_floating_point else 4
    return sum(p.numel() for p in model.parameters()) * size


def cache_bytes(config: MossAudioConfig, dtype: torch.dtype) -> int:
    """What one session's key/value cache takes when it holds the whole context."""
    qwen = config.qwen3()
    per_position = 2 * qwen.num_hidden_layers * qwen.num_key_value_heads * qwen.head_dim
    return per_position * config.max_positions * (torch.finfo(dtype).bits // 8)


def free_bytes(device: torch.device) -> int:
    """Memory the weights could use on ``device``."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    return int(psutil.virtual_memory().available)


def load_model(
    path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None
) -> MossAudioModel:
    """The model in ``path``, in bf16 on a GPU and fp32 on the CPU unless told otherwise."""
    directory = Path(path)
    if not directory.is_dir():
        raise CheckpointError(f"{directory} is not a checkpoint directory: {HOW_TO_GET}")
    device = torch.device(device)
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    try:
        config = MossAudioConfig.from_file(directory)
    except ConfigError as exc:
        raise CheckpointError(f"{directory}: {exc}") from exc
    files = weight_files(directory)
    weights, cache = parameter_bytes(config, dtype), cache_bytes(config, dtype)
    free = free_bytes(device)
    if weights + cache > free:
        raise CheckpointError(
            f"the model needs {(weights + cache) / 2**30:.1f} GiB in {dtype} "
            f"({weights / 2**30:.1f} GiB of weights, {cache / 2**30:.1f} GiB of key/value "
            f"cache at its full context) but {device} has {free / 2**30:.1f} GiB free; "
            "use a smaller checkpoint or a bigger device"
        )
    with torch.device("meta"):
        model = MossAudioModel(config)
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    tensors: dict[str, torch.Tensor] = {}
    for file in files:
        try:
            with safe_open(str(file), framework="pt", device="cpu") as f:
                for name in f.keys():  # noqa: SIM118 - safe_open has no __iter__
                    tensors[name] = f.get_tensor(name)
        except Exception as exc:  # safetensors raises its own error types
            raise CheckpointError(f"{file} cannot be read: {exc}") from exc
    check_keys(expected, {name: tuple(t.shape) for name, t in tensors.items()})
    state = {name: t.to(device=device, dtype=dtype) for name, t in tensors.items()}
    model.load_state_dict(state, assign=True, strict=True)
    rotary = type(model.language_model.rotary_emb)  # its buffers are not in checkpoints
    with torch.device(device):
        model.language_model.rotary_emb = rotary(config=model.language_model.config)
    left = [name for name, t in model.state_dict(keep_vars=True).items() if t.is_meta]
    left += [name for name, t in model.named_buffers() if t.is_meta]
    if left:
        raise CheckpointError(f"tensors not in the checkpoint: {', '.join(left[:3])}")
    return model.eval()


def check_keys(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]]) -> None:
    """Raise :class:`CheckpointError` listing missing, unexpected and mis-shaped tensors."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong = sorted(n for n in set(expected) & set(found) if expected[n] != found[n])
    if not (missing or unexpected or wrong):
        return
    lines = []
    for label, names in (("missing", missing), ("unexpected", unexpected)):
        if names:
            lines.append(f"{len(names)} {label} (e.g. {', '.join(names[:3])})")
    if wrong:
        lines.append(f"{len(wrong)} with other shapes (e.g. {wrong[0]}: checkpoint "
                     f"{found[wrong[0]]}, config {expected[wrong[0]]})")  # fmt: skip
    raise CheckpointError("the checkpoint does not match its config: " + "; ".join(lines))


def save_checkpoint(model: MossAudioModel, directory: str | Path) -> Path:
    """Write config.json and model.safetensors with the published key names."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(model.config.to_dict(), indent=2))
    state = {name: t.detach().contiguous().cpu() for name, t in model.state_dict().items()}
    save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
    return directory
