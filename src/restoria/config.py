"""Training configs: YAML files in configs/, merged over defaults, overridable from the command line."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from restoria.io import InputError

DEFAULTS: dict[str, Any] = {
    "task": "restore",
    "seed": 0,
    "model": {},
    "loss": {},
    "optimizer": {},
    "data": {},
    "trainer": {
        "max_steps": 1000,
        "max_epochs": None,
        "val_check_interval": 200,
        "checkpoint_every": 50,
        "early_stopping_patience": 10,
        "precision": "auto",
        "log_every_n_steps": 10,
        "gradient_clip_val": 1.0,
        "sync_batchnorm": True,
    },
}


# What each task watches to keep its best weights and stop early, and the model it builds when the
# config names none; a config's own values win.
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "restore": {"monitor": "val/score", "monitor_mode": "max", "model": {"name": "two_stage"}},
    "restore_adversarial": {"monitor": "val/score", "monitor_mode": "max", "model": {"name": "two_stage"}},
    "cyclegan": {"monitor": "val/cycle", "monitor_mode": "min", "model": {"name": "cyclegan"}},
    "segment": {"monitor": "val/iou", "monitor_mode": "max", "model": {"name": "unet"}},
    "classify": {"monitor": "val/acc", "monitor_mode": "max", "model": {"name": "resnet_classifier"}},
    # generative models: GANs keep the generator whose samples are closest to the validation images
    # (kernel MMD on pixels, restoria.tasks.gan); the AE its reconstruction, the VAE its negative ELBO
    "gan": {"monitor": "val/kid", "monitor_mode": "min", "model": {"name": "dcgan_generator"}, "loss": {"kind": "gan"}},
    "wgan_gp": {
        "monitor": "val/kid", "monitor_mode": "min", "model": {"name": "dcgan_generator"},
        "discriminator": {"norm": "layer"}, "loss": {"kind": "wgan_gp", "n_critic": 5, "gp_weight": 10.0},
        "optimizer": {"lr": 1e-4, "betas": [0.0, 0.9]},
    },
    "cgan": {"monitor": "val/kid", "monitor_mode": "min", "model": {"name": "dcgan_generator", "num_classes": 10}, "loss": {"kind": "gan"}},
    "ae": {"monitor": "val/recon", "monitor_mode": "min", "model": {"name": "autoencoder"}},
    "vae": {"monitor": "val/loss", "monitor_mode": "min", "model": {"name": "vae"}},
    "superres": {"monitor": "val/psnr", "monitor_mode": "max", "model": {"name": "srresnet"}},
    "enhance": {"monitor": "val/psnr", "monitor_mode": "max", "model": {"name": "enhancer"}},
}


def with_task_defaults(cfg: dict[str, Any]) -> dict[str, Any]:
    """`cfg` (already over DEFAULTS) with its task's defaults filled in beneath it."""
    task = cfg.get("task")
    if task not in TASK_DEFAULTS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASK_DEFAULTS)}")
    return merge(TASK_DEFAULTS[task], cfg)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge: `over` wins, nested dicts are merged key by key."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def load_config(path: str | Path | None) -> dict[str, Any]:
    """Load a YAML config over DEFAULTS. Without a path, the recipe the shipped default weights were
    trained with (kept in their metadata), so `restoria train` alone reproduces the default model."""
    if path is None:
        from restoria.weights import default_weights, read_metadata

        shipped = default_weights()
        recipe = read_metadata(shipped).get("config", {}) if shipped.exists() else {}
        return with_shipped_paths(with_task_defaults(merge(DEFAULTS, recipe)))
    return with_shipped_paths(with_task_defaults(merge(DEFAULTS, read_yaml_mapping(path, "model, data, trainer, ..."))))


def with_shipped_paths(cfg: dict[str, Any]) -> dict[str, Any]:
    """`cfg` with the bare names of shipped weights (`encoder_weights: segment.safetensors`) turned into
    their paths in the package's assets, so the model builders only ever see real paths."""
    from restoria.weights import shipped_path

    model = dict(cfg.get("model", {}))
    for key in ("encoder_weights", "colorize_encoder_weights"):
        if isinstance(model.get(key), str):
            model[key] = shipped_path(model[key])
    init = {"init": shipped_path(cfg["init"])} if isinstance(cfg.get("init"), str) else {}
    return {**cfg, "model": model, **init}


def read_yaml_mapping(path: str | Path, sections: str) -> dict[str, Any]:
    """A YAML config file as a dict; a missing, malformed or non-mapping file is an InputError naming it."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "config file not found")
    try:
        loaded = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(p, f"not valid YAML ({exc})") from None
    if not isinstance(loaded, dict):
        raise InputError(p, f"config must be a mapping of sections ({sections})")
    return loaded
