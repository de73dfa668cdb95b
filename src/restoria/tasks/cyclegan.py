"""CycleGAN (Zhu et al. 2017): two generators A -> B and B -> A trained without pairs, each against a
PatchGAN on its output domain, tied together by cycle consistency (A -> B -> A gives A back) and an
identity term. For Restoria the domains are gray and colour photos, so a colorizer can learn from
colour photos and unrelated gray ones, where no photo exists in both versions.

Manual optimisation: a generator step on adversarial + cycle + identity losses, then a discriminator
step on real images against a history of earlier fakes (Shrivastava et al. 2017), as the paper does.
"""

from __future__ import annotations

import random
from typing import Any

import lightning as L
import numpy as np
import torch
from torchmetrics import MeanMetric

from restoria.imaging import to_uint8
from restoria.losses import GAN_MODES, cycle_consistency_loss, gan_discriminator_loss, gan_generator_loss, identity_loss
from restoria.metrics.score import CompetitionScore, mean_saturation
from restoria.models import create_model
from restoria.tasks.common import build_optimizer, build_schedule, figure_path, uncounted
from restoria.tasks.sample import save_grid


class ImagePool:
    """The last `size` generated images. Each query returns, per image, either the new one or (half the
    time, once full) a stored older one it replaces, so D does not chase only G's latest mode."""

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif random.random() < 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


class CycleGANTask(L.LightningModule):
    """`self.net` holds both generators (what the run saves); `disc_a`, `disc_b` judge domains A and B."""

    def __init__(
        self,
        model: dict[str, Any],
        loss: dict[str, Any] | None = None,
        optimizer: dict[str, Any] | None = None,
        discriminator: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        model = dict(model)
        self.net = create_model(model.pop("name", "cyclegan"), **model)
        d_cfg = {"name": "patchgan", "base_channels": 64, "n_layers": 3, "norm": "instance", **(discriminator or {})}
        name = d_cfg.pop("name")
        self.disc_a = create_model(name, in_channels=self.net.channels_a, **d_cfg)
        self.disc_b = create_model(name, in_channels=self.net.channels_b, **d_cfg)
        cfg = {"cycle": 10.0, "identity": 0.5, "gan_mode": "nonsaturating", "pool": 50}
        unknown = set(loss or {}) - set(cfg)
        if unknown:
            raise ValueError(f"unknown CycleGAN loss setting(s) {sorted(unknown)}; known: {', '.join(cfg)}")
        cfg.update(loss or {})
        if cfg["gan_mode"] not in GAN_MODES:
            raise ValueError(f"loss.gan_mode must be one of {', '.join(GAN_MODES)}, got {cfg['gan_mode']!r}")
        if cfg["identity"] and self.net.channels_a != self.net.channels_b:
            raise ValueError("loss.identity needs domains with the same number of channels; set it to 0")
        self.loss_cfg = cfg
        self.optim_cfg = {"name": "adam", "lr": 2e-4, "betas": (0.5, 0.999), "schedule": "linear_decay", "decay_from": 0.5, **(optimizer or {})}
        self.pool_a, self.pool_b = ImagePool(int(cfg["pool"])), ImagePool(int(cfg["pool"]))
        self.val_score = CompetitionScore()  # on paired validation sets only
        self.val_cycle, self.val_saturation = MeanMetric(), MeanMetric()

    def configure_optimizers(self) -> Any:
        c = self.optim_cfg
        opt_g = build_optimizer(self.net.parameters(), c)
        opt_d = build_optimizer([*self.disc_a.parameters(), *self.disc_b.parameters()], c)
        return [opt_g, opt_d], [build_schedule(o, self, c) for o in (opt_g, opt_d)]

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self.net(a)

    def generator_losses(self, real_a: torch.Tensor, real_b: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """The G objective's terms by name, and the fakes (B from A, A from B), all in [-1, 1]."""
        c, g = self.loss_cfg, self.net
        fake_b, fake_a = g.a_to_b(real_a), g.b_to_a(real_b)
        terms = {
            "adv": gan_generator_loss(self.disc_b(fake_b), c["gan_mode"]) + gan_generator_loss(self.disc_a(fake_a), c["gan_mode"]),
            "cycle": cycle_consistency_loss(real_a, g.b_to_a(fake_b), c["cycle"]) + cycle_consistency_loss(real_b, g.a_to_b(fake_a), c["cycle"]),
        }
        if c["identity"]:
            w = c["cycle"] * c["identity"]
            terms["identity"] = identity_loss(real_b, g.a_to_b(real_b), w) + identity_loss(real_a, g.b_to_a(real_a), w)
        return terms, fake_b, fake_a

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        uncounted(opt_d)
        real_a, real_b = batch["a"] * 2 - 1, batch["b"] * 2 - 1

        self.toggle_optimizer(opt_g)
        terms, fake_b, fake_a = self.generator_losses(real_a, real_b)
        g_loss = sum(terms.values())
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(g_loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

        self.toggle_optimizer(opt_d)
        fb, fa = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        d_loss = 0.5 * (gan_discriminator_loss(self.disc_b(real_b), self.disc_b(fb)) + gan_discriminator_loss(self.disc_a(real_a), self.disc_a(fa)))
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)
        for sched in self.lr_schedulers():
            sched.step()

        n = len(real_a)
        self.log_dict({f"train/{k}": v.detach() for k, v in terms.items()} | {"train/d_loss": d_loss.detach()}, batch_size=n)
        self.log("train/g_loss", g_loss.detach(), prog_bar=True, batch_size=n)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        real_a, real_b = batch["a"] * 2 - 1, batch["b"] * 2 - 1
        fake_b, fake_a = self.net.a_to_b(real_a), self.net.b_to_a(real_b)
        cycle = (self.net.b_to_a(fake_b) - real_a).abs().mean() + (self.net.a_to_b(fake_a) - real_b).abs().mean()
        self.val_cycle.update(cycle)
        colour = (fake_b + 1) / 2
        if self._paired() and self.net.channels_b == 3:
            for i in range(len(colour)):
                true, pred = to_uint8(batch["b"][i]), to_uint8(colour[i])
                whole = np.ones(true.shape[:2], dtype=np.uint8)  # no lost region: the colour of everything counts
                self.val_score.update(true, pred, whole)
                self.val_saturation.update(mean_saturation(pred))
        if batch_idx == 0:
            path = figure_path(self, "cyclegan")
            if path is not None:  # rows: A, A -> B, B, B -> A
                save_grid(torch.cat([batch["a"], colour, batch["b"], (fake_a + 1) / 2]).clamp(0, 1), len(real_a), path)

    def _paired(self) -> bool:
        dm = getattr(self.trainer, "datamodule", None)
        return bool(getattr(dm, "paired_val", False))

    def on_validation_epoch_end(self) -> None:
        logs = {"val/cycle": float(self.val_cycle.compute())}
        if self.val_score.update_count:
            score = self.val_score.compute()
            logs |= {f"val/{k}": score[k] for k in ("ssim", "hist", "score")}
            logs["val/saturation"] = float(self.val_saturation.compute())
        for metric in (self.val_cycle, self.val_score, self.val_saturation):
            metric.reset()
        self.log_dict(logs, prog_bar=True)  # the metrics already cover every process's photos
