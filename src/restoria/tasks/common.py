"""What the detector tasks share: their optimiser and schedule, and where their figures go."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def configure_optimizer(module: L.LightningModule, cfg: dict[str, Any]) -> Any:
    """The optimiser a config names (adam, adamw, sgd) over the trainable parameters only (frozen layers
    stay out), with `schedule` "none" or "cosine" (5% linear warm-up, then cosine to 1% of the peak)."""
    name = cfg.get("name", "adam")
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer.name must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    params = [p for p in module.parameters() if p.requires_grad]
    opt = OPTIMIZERS[name](params, lr=cfg["lr"], weight_decay=cfg.get("weight_decay", 0.0))
    schedule = cfg.get("schedule", "none")
    if schedule in (None, "none"):
        return opt
    if schedule != "cosine":
        raise ValueError(f"optimizer.schedule must be none or cosine, got {schedule!r}")
    sched = torch.optim.lr_scheduler.LambdaLR(opt, cosine_with_warmup(lambda: int(module.trainer.estimated_stepping_batches)))
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def cosine_with_warmup(total_steps: Callable[[], int]) -> Callable[[int], float]:
    """LR factor per step. The run length is asked at every step, so a resumed, longer run stretches it."""

    def factor(step: int) -> float:
        total = max(1, total_steps())
        warm = max(1, total // 20)
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total - warm))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

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
