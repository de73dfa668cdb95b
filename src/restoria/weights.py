"""Shipped and trained weights: safetensors files that carry the config needed to rebuild the model."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from restoria.io import InputError, atomic_path
from restoria.models import create_model

DEFAULT_RESTORE = "restore.safetensors"


def default_weights(name: str = DEFAULT_RESTORE) -> Path:
    """Path of a weights file shipped inside the package (its `assets/` data folder)."""
    return Path(str(resources.files("restoria") / "assets" / name))


def shipped_path(value: str) -> str:
    """A bare file name that is not a local file but is shipped in the package -> the shipped file's
    path; anything else (a path, "imagenet", a name smp knows) unchanged."""
    if "/" in value or Path(value).exists() or Path(value).suffix != ".safetensors":
        return value
    shipped = default_weights(value)
    return str(shipped) if shipped.exists() else value


def save_weights(model: nn.Module, path: str | Path, model_cfg: dict[str, Any], half: bool = False, **meta: Any) -> None:
    """Write a model's weights with its config (JSON in the safetensors metadata), atomically.

    `half` stores float tensors as float16 to halve the file; they are loaded back as float32.
    """
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    metadata = {"model": json.dumps(model_cfg), **{k: json.dumps(v) for k, v in meta.items()}}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=metadata)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a weights file (model config, training facts)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = f.metadata() or {}
    except FileNotFoundError:
        raise InputError(path, "weights file not found") from None
    except Exception as exc:
        raise InputError(path, f"not a safetensors weights file ({exc})") from None
    return {k: json.loads(v) for k, v in raw.items()}


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, floats as float32 (files may store them as float16)."""
    return {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}


def load_model(path: str | Path | None = None, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from a weights file (the shipped default when `path` is None), in eval mode."""
    path = Path(path) if path else default_weights()
    meta = read_metadata(path)
    if "model" not in meta:
        raise InputError(path, "weights file has no model config in its metadata")
    cfg = dict(meta["model"])
    for key in ("encoder_weights", "colorize_encoder_weights"):
        cfg.pop(key, None)  # the trained weights replace any pretrained init
    model = create_model(cfg.pop("name", "two_stage"), **cfg)
    model.load_state_dict(load_state(path))
    model.meta = meta  # type: ignore[attr-defined]
    return model.eval().to(device)



def ship(src: str | Path, dst: str | Path, model_overrides: dict[str, Any] | None = None, **meta: Any) -> Path:
    """Copy trained weights into the shipped form: float16 tensors, the same metadata plus `meta`, and
    the model config with `model_overrides` (e.g. a colour calibration, or `local: False` to ship an
    enhancer's levels path alone) applied.

        python -c "from restoria.weights import ship; ship('runs/segment/model.safetensors', 'src/restoria/assets/segment.safetensors')"
    """
    model = load_model(src)
    kept = {k: v for k, v in model.meta.items() if k != "model"}
    cfg = {**model.meta["model"], **(model_overrides or {})}
    if model_overrides:  # the config may leave parts out (an enhancer's local U-Net): keep the tensors it has
        built = {k: v for k, v in cfg.items() if k not in ("encoder_weights", "colorize_encoder_weights")}
        target = create_model(built.pop("name", "two_stage"), **built)
        state = model.state_dict()
        missing = sorted(set(target.state_dict()) - set(state))
        if missing:
            raise InputError(Path(src), f"the overridden model needs tensors the weights lack: {', '.join(missing[:3])}")
        target.load_state_dict({k: state[k] for k in target.state_dict()})
        model = target
    save_weights(model, dst, cfg, half=True, **(kept | meta))
    return Path(dst)
