"""Adversarial fine-tuning of the colorizer (pix2pix / DeOldify's lesson): pixel losses alone reward
the average colour of everything that could be there, which is sepia; a PatchGAN discriminator that
tells real photos from restored ones rewards colours that look like a photo's, patch by patch.

The task is the restore task plus a discriminator, trained by manual optimisation (D step, then the
restorer's step on its pixel losses + `loss.gan` x the generator loss). It is meant to start from a
trained restorer (`init:`) with the inpainter frozen (`freeze: [inpainter]`), and saves the same
restorer weights as the restore task, so its model.safetensors is a drop-in `--weights` for restore.
"""

from __future__ import annotations

from typing import Any

import torch

from restoria.losses import GAN_MODES, gan_discriminator_loss, gan_generator_loss
from restoria.models import create_model
from restoria.tasks.common import build_optimizer, build_schedule, trainable, uncounted
from restoria.tasks.restore import RestoreTask

GAN_DEFAULTS: dict[str, Any] = {"gan": 0.02, "gan_mode": "nonsaturating"}


class AdversarialRestoreTask(RestoreTask):
    """RestoreTask + a PatchGAN on the colour photo (real: the ground truth; fake: the restored photo)."""

    def __init__(
        self,
        model: dict[str, Any],
        loss: dict[str, Any] | None = None,
        optimizer: dict[str, Any] | None = None,
        val_chroma_gains: list[float] | None = None,
        init: str | None = None,
        freeze: list[str] | None = None,
        discriminator: dict[str, Any] | None = None,
    ) -> None:
        loss = {**GAN_DEFAULTS, **(loss or {})}
        gan = {k: loss.pop(k) for k in GAN_DEFAULTS}
        if gan["gan_mode"] not in GAN_MODES:
            raise ValueError(f"loss.gan_mode must be one of {', '.join(GAN_MODES)}, got {gan['gan_mode']!r}")
        super().__init__(model, loss, optimizer, val_chroma_gains, init, freeze)
        self.automatic_optimization = False
        self.gan_cfg = gan
        d_cfg = {"name": "patchgan", "in_channels": 3, "base_channels": 32, "n_layers": 3, "norm": "batch", **(discriminator or {})}
        self.discriminator = create_model(d_cfg.pop("name"), **d_cfg)
        self.optim_cfg = {"d_lr": 2e-4, "d_betas": (0.5, 0.999), "clip": 1.0, **self.optim_cfg}

    def configure_optimizers(self) -> Any:
        c = self.optim_cfg
        opt_g = build_optimizer(trainable(self.net), c, default="adamw")
        opt_d = build_optimizer(self.discriminator.parameters(), {"name": "adam", "lr": c["d_lr"], "betas": c["d_betas"]})
        sched = build_schedule(opt_g, self, c)
        return ([opt_g, opt_d], [sched]) if sched else [opt_g, opt_d]

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        uncounted(opt_d)
        n = len(batch["mask"])
        losses, rgb = self.restore_losses(batch, need_rgb=True)
        assert rgb is not None
        real = batch["rgb"] * 2 - 1

        self.toggle_optimizer(opt_d)
        d_real, d_fake = self.discriminator(real), self.discriminator(rgb.detach() * 2 - 1)
        d_loss = gan_discriminator_loss(d_real, d_fake)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        self.toggle_optimizer(opt_g)
        losses["gan"] = self.gan_cfg["gan"] * gan_generator_loss(self.discriminator(rgb * 2 - 1), self.gan_cfg["gan_mode"])
        total = sum(losses.values())
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(total)
        if self.optim_cfg["clip"]:
            self.clip_gradients(opt_g, gradient_clip_val=self.optim_cfg["clip"], gradient_clip_algorithm="norm")
        opt_g.step()
        self.untoggle_optimizer(opt_g)
        sched = self.lr_schedulers()
        if sched is not None:
            sched.step()

        logs = {f"train/{k}": v.detach() for k, v in losses.items()}
        logs |= {"train/d_loss": d_loss.detach(), "train/d_real": torch.sigmoid(d_real).mean(), "train/d_fake": torch.sigmoid(d_fake).mean()}
        self.log_dict(logs, batch_size=n)
        self.log("train/loss", total.detach(), prog_bar=True, batch_size=n)
