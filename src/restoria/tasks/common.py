"""What every task shares: its optimiser and schedule (one helper, configured by `optimizer:` in the
config), where its figures go, and a discriminator step that does not count as a training step."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import lightning as L
import torch

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
SCHEDULES = ("none", "cosine", "linear_decay")


def trainable(module: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters an optimiser should own: frozen layers stay out."""
    return [p for p in module.parameters() if p.requires_grad]


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: dict[str, Any], default: str = "adam") -> torch.optim.Optimizer:
    """The optimiser a config names (`name`: adam, adamw or sgd; `lr`, `weight_decay`, `betas`)."""
    name = cfg.get("name") or default
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer.name must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    kwargs: dict[str, Any] = {"lr": cfg["lr"], "weight_decay": cfg.get("weight_decay") or 0.0}
    if cfg.get("betas") is not None and name != "sgd":
        kwargs["betas"] = tuple(cfg["betas"])
    return OPTIMIZERS[name](params, **kwargs)


def build_schedule(optimizer: torch.optim.Optimizer, module: L.LightningModule, cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The per-step schedule a config names, as Lightning wants it, or None for `schedule: none`:
    `cosine` (5% linear warm-up, then cosine to 1% of the peak) or `linear_decay` (constant, then
    linearly to 0 from `decay_from` of the run, the pix2pix/CycleGAN schedule). The run's length is
    read from the trainer at every step, so a run resumed with a larger --max-steps stretches it."""
    schedule = cfg.get("schedule") or "none"
    if schedule not in SCHEDULES:
        raise ValueError(f"optimizer.schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if schedule == "none":
        return None

    def total() -> int:
        return int(module.trainer.estimated_stepping_batches)

    factor = cosine_with_warmup(total) if schedule == "cosine" else linear_decay(total, float(cfg.get("decay_from", 0.5)))
    return {"scheduler": torch.optim.lr_scheduler.LambdaLR(optimizer, factor), "interval": "step"}


def configure_optimizer(module: L.LightningModule, cfg: dict[str, Any], default: str = "adam") -> Any:
    """`configure_optimizers` for a one-optimiser task: `build_optimizer` over the trainable parameters
    with its `build_schedule`."""
    optimizer = build_optimizer(trainable(module), cfg, default)
    schedule = build_schedule(optimizer, module, cfg)
    return optimizer if schedule is None else {"optimizer": optimizer, "lr_scheduler": schedule}


def cosine_with_warmup(total_steps: Callable[[], int]) -> Callable[[int], float]:
    """LR factor per step: linear warm-up over 5% of the run, then cosine to 1% of the peak."""

    def factor(step: int) -> float:
        total = max(1, total_steps())
        warm = max(1, total // 20)
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total - warm))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def linear_decay(total_steps: Callable[[], int], decay_from: float) -> Callable[[int], float]:
    """LR factor per step: 1, then linearly to 0 over the last (1 - decay_from) of the run."""

    def factor(step: int) -> float:
        total = max(1, total_steps())
        start = decay_from * total
        return 1.0 if step < start else max(0.0, 1.0 - (step - start) / max(1.0, total - start))

    return factor


def figure_path(module: L.LightningModule, name: str) -> Path | None:
    """RUN/figures/<name>-step<N>.png for the run a trainer is writing, or None outside a real run
    (no trainer, sanity check, not the main process)."""
    try:
        trainer = module.trainer
    except RuntimeError:  # not attached to a trainer
        return None
    if trainer.sanity_checking or not trainer.is_global_zero:
        return None
    return Path(trainer.default_root_dir) / "figures" / f"{name}-step{trainer.global_step:06d}.png"


def uncounted(optimizer: Any) -> Any:
    """A LightningOptimizer whose step() does not advance `trainer.global_step`.

    Under manual optimisation Lightning counts every optimizer's step as a global step
    (Lightning-AI/pytorch-lightning#17958), so a GAN's G and D steps count twice and `max_steps`,
    `val_check_interval`, checkpoints and schedules run at half the intended length. The discriminator's
    optimizer is made not to count: one training step is one global step.
    """
    optimizer._on_before_step = optimizer._on_after_step = lambda: None
    return optimizer


def load_matching(net: torch.nn.Module, path: str) -> set[str]:
    """Initialise `net` from a weights file: every tensor whose name and shape match is copied.
    Returns the names copied."""
    from restoria.weights import load_state

    own = net.state_dict()
    state = {k: v.to(own[k].dtype) for k, v in load_state(path).items() if k in own and own[k].shape == v.shape}
    net.load_state_dict(state, strict=False)
    return set(state)
