"""Adversarial training of a generator against a discriminator (task gan, cgan) or critic (wgan_gp).

Manual optimisation, because G and D have opposite objectives and alternate: every batch takes one
D (critic) step on real images and detached fakes; every `n_critic`-th batch then takes one G step
through the (frozen) D. Each toggles its optimizer, so the other network's weights never move.

loss: {kind: gan | wgan_gp, mode: nonsaturating | minimax (gan), gp_weight: 10, n_critic: 1 (5 for
WGAN-GP), real_label: 1.0 (one-sided label smoothing below 1)}. With model.num_classes > 0 both nets
are label-conditional (cgan): fakes are drawn with the labels of the real batch, so classes are seen
as often as the data holds them.

Validation watches `val/kid`: the kernel (polynomial, unbiased) MMD between validation images and as
many generated ones, computed by torchmetrics' KID on raw pixels. The Inception network KID/FID
normally use cannot be downloaded here; in pixel space the statistic still drops only when samples
match the data's distribution, modes included, whereas a generator loss says nothing about quality
(it oscillates with D). A fixed-noise sample grid is written to RUN/figures/samples-step<N>.png.
"""

from __future__ import annotations

import warnings
from typing import Any

import lightning as L
import torch
from torch import nn
from torchmetrics.image.kid import KernelInceptionDistance

from restoria.losses import (
    gan_discriminator_loss,
    gan_generator_loss,
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from restoria.models import create_model
from restoria.tasks.common import build_optimizer, figure_path
from restoria.tasks.sample import draw, save_grid

GAN_KINDS = ("gan", "wgan_gp")


class GANTask(L.LightningModule):
    """`self.net` is the generator (what ExportBest saves and `restoria sample` loads)."""

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
        self.net = create_model(model.pop("name", "dcgan_generator"), **model)
        shared = {k: getattr(self.net, k) for k in ("channels", "image_size", "num_classes")}
        d_cfg = {"name": "dcgan_discriminator", **shared, **(discriminator or {})}
        self.discriminator = create_model(d_cfg.pop("name"), **d_cfg)
        cfg = {"kind": "gan", "mode": "nonsaturating", "gp_weight": 10.0, "n_critic": 1, "real_label": 1.0}
        unknown = set(loss or {}) - set(cfg)
        if unknown:
            raise ValueError(f"unknown GAN loss setting(s) {sorted(unknown)}; known: {', '.join(cfg)}")
        cfg.update(loss or {})
        if cfg["kind"] not in GAN_KINDS:
            raise ValueError(f"loss.kind must be one of {', '.join(GAN_KINDS)}, got {cfg['kind']!r}")
        if int(cfg["n_critic"]) < 1:
            raise ValueError(f"loss.n_critic must be >= 1, got {cfg['n_critic']}")
        self.loss_cfg = cfg
        self.optim_cfg = {"lr": 2e-4, "d_lr": None, "betas": (0.5, 0.999)}
        self.optim_cfg.update(optimizer or {})
        self.kid: KernelInceptionDistance | None = None

    @property
    def conditional(self) -> bool:
        return bool(self.net.num_classes)

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None)
        if self.conditional and dm is not None and getattr(dm, "num_classes", 0) != self.net.num_classes:
            raise ValueError(
                f"model.num_classes is {self.net.num_classes} but {dm.data} has {dm.num_classes} class(es) "
                f"({', '.join(dm.class_names)}): make them agree (class subfolders label an image folder)"
            )

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        c = self.optim_cfg
        opt_g = build_optimizer(self.net.parameters(), c)
        opt_d = build_optimizer(self.discriminator.parameters(), c | {"lr": c["d_lr"] or c["lr"]})
        return [opt_g, opt_d]

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Generated images in [0, 1]."""
        return self.net.generate(z, labels)

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.net.latent_dim, device=self.device)

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """The D / critic objective on real images and (detached) fakes, in [-1, 1]."""
        d_real, d_fake = self.discriminator(real, labels), self.discriminator(fake, labels)
        if self.loss_cfg["kind"] == "wgan_gp":
            w = wasserstein_critic_loss(d_real, d_fake)
            gp = gradient_penalty(lambda x: self.discriminator(x, labels), real, fake, self.loss_cfg["gp_weight"])
            return {"d_loss": w + gp, "wasserstein": -w, "gp": gp}
        smooth = self.loss_cfg["real_label"]
        if smooth < 1.0:  # one-sided label smoothing (Salimans et al. 2016)
            bce = nn.functional.binary_cross_entropy_with_logits
            loss = bce(d_real, torch.full_like(d_real, smooth)) + bce(d_fake, torch.zeros_like(d_fake))
        else:
            loss = gan_discriminator_loss(d_real, d_fake)
        return {"d_loss": loss, "d_real": torch.sigmoid(d_real).mean(), "d_fake": torch.sigmoid(d_fake).mean()}

    def generator_loss(self, fake: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        score = self.discriminator(fake, labels)
        if self.loss_cfg["kind"] == "wgan_gp":
            return wasserstein_generator_loss(score)
        return gan_generator_loss(score, self.loss_cfg["mode"])

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        real = batch["image"] * 2 - 1
        labels = batch["label"] if self.conditional else None
        n = real.shape[0]

        self.toggle_optimizer(opt_d)
        with torch.no_grad():
            fake = self.net(self._noise(n), labels)
        d_terms = self.discriminator_loss(real, fake, labels)
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_terms["d_loss"])
        opt_d.step()
        self.untoggle_optimizer(opt_d)
        self.log_dict({f"train/{k}": v.detach() for k, v in d_terms.items()}, prog_bar=False)

        if (batch_idx + 1) % int(self.loss_cfg["n_critic"]) == 0:
            self.toggle_optimizer(opt_g)
            g_loss = self.generator_loss(self.net(self._noise(n), labels), labels)
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(g_loss)
            opt_g.step()
            self.untoggle_optimizer(opt_g)
            self.log("train/g_loss", g_loss.detach(), prog_bar=True)

    def on_validation_epoch_start(self) -> None:
        if self.kid is None:
            n = len(self.trainer.datamodule.val_set) if getattr(self.trainer, "datamodule", None) else 100
            with warnings.catch_warnings():  # it keeps the features of one validation pass: a few MB
                warnings.filterwarnings("ignore", message=".*will save all extracted features")
                kid = KernelInceptionDistance(feature=nn.Flatten(), subset_size=max(2, min(100, n)), subsets=50)
            self.kid = kid.to(self.device)
        self.kid.reset()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        real = batch["image"]
        labels = batch["label"] if self.conditional else None
        fake = self(self._noise(real.shape[0]), labels)
        self.kid.update(real.float(), real=True)
        self.kid.update(fake.float(), real=False)

    def on_validation_epoch_end(self) -> None:
        kid_mean, _ = self.kid.compute()
        self.log("val/kid", kid_mean, prog_bar=True)
        path = figure_path(self, "samples")
        if path is not None:
            was_training = self.net.training
            self.net.eval()
            images, nrow = draw(self.net, 100 if self.conditional else 64, seed=0)
            self.net.train(was_training)
            save_grid(images, nrow, path)
