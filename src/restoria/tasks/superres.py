"""The super-resolution task: SRResNet with a pixel loss, or SRGAN (the same generator against a
discriminator, by manual optimisation) when the loss gives the adversarial term a weight.

The LR input is made on the batch from the HR crops (`sr_data.bicubic_down`), so the model's `scale`
is the only scale. Validation logs PSNR/SSIM on Y (`val/psnr` drives the best checkpoint of SRResNet)
with the bicubic baseline's beside them (`val/psnr_bicubic`, `val/psnr_gain`), and the sharpness ratio
(`val/hf_ratio`; `val/hf_gap` = |1 - ratio| is what an SRGAN run keeps its best weights by).

SRGAN (Ledig et al. 2017): each batch takes `discriminator.steps` D steps on real HR vs the detached
SR output, then one G step on content loss + `adversarial` x the generator's GAN loss (1e-3 in the
paper). Lightning counts every optimiser step, so `max_steps` counts G and D steps together.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from restoria.data.superres import bicubic_down, bicubic_up
from restoria.losses import gan_discriminator_loss, gan_generator_loss, reconstruction_loss
from restoria.metrics.superres import sr_scores
from restoria.models import create_model
from restoria.tasks.common import build_optimizer, configure_optimizer, load_matching, trainable


class SuperResTask(L.LightningModule):
    def __init__(
        self,
        model: dict[str, Any],
        loss: dict[str, Any] | None = None,
        optimizer: dict[str, Any] | None = None,
        discriminator: dict[str, Any] | None = None,
        init: str | None = None,
        freeze: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        model = dict(model)
        self.net = create_model(model.pop("name", "srresnet"), **model)
        if init:
            load_matching(self.net, init)
        for name in freeze or []:
            getattr(self.net, name).requires_grad_(False)
        self.loss_cfg: dict[str, Any] = {"l1": 1.0, "mse": 0.0, "adversarial": 0.0, "gan_mode": "nonsaturating", "perceptual": 0.0, "vgg_weights": None}
        self.loss_cfg.update(loss or {})
        self.optim_cfg: dict[str, Any] = {"name": "adam", "lr": 1e-4, "schedule": "none"}
        self.optim_cfg.update(optimizer or {})
        self.perceptual = None
        if self.loss_cfg["perceptual"]:
            if not self.loss_cfg["vgg_weights"]:
                raise ValueError("loss.perceptual needs loss.vgg_weights: a local torchvision VGG19 weights file (nothing is downloaded)")
            from restoria.perceptual import VGGFeatureLoss

            self.perceptual = VGGFeatureLoss(self.loss_cfg["vgg_weights"])
        self.adversarial = bool(self.loss_cfg["adversarial"])
        if self.adversarial:
            d_cfg = {"name": "srgan_discriminator", **(discriminator or {})}
            self.d_steps = int(d_cfg.pop("steps", 1))
            self.d_lr = float(d_cfg.pop("lr", self.optim_cfg["lr"]))
            self.disc = create_model(d_cfg.pop("name"), **d_cfg)
            self.automatic_optimization = False
        self._val: dict[str, list[torch.Tensor]] = {}

    @property
    def scale(self) -> int:
        return int(self.net.scale)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return self.net(lr)

    def on_fit_start(self) -> None:
        dm = self.trainer.datamodule
        for key in ("crop", "val_crop"):
            size = getattr(dm, key, None)
            if size is not None and size % self.scale:
                raise ValueError(f"data.{key} ({size}) must be a multiple of model.scale ({self.scale})")

    def content_loss(self, sr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        c = self.loss_cfg
        terms = {"pixel": reconstruction_loss(sr, hr, c["l1"], c["mse"])}
        if self.perceptual is not None:
            terms["perceptual"] = c["perceptual"] * self.perceptual(sr, hr)
        return terms

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor | None:
        hr = batch["hr"]
        lr = bicubic_down(hr, self.scale)
        if self.adversarial:
            return self._adversarial_step(lr, hr)
        terms = self.content_loss(self.net(lr), hr)
        total = sum(terms.values())
        self.log_dict({f"train/{k}": v for k, v in terms.items()}, batch_size=len(hr))
        self.log("train/loss", total, prog_bar=True, batch_size=len(hr))
        return total

    def _adversarial_step(self, lr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        opt_g, opt_d = self.optimizers()
        sr = self.net(lr)
        with self.toggled_optimizer(opt_d):  # D step: real HR -> 1, detached SR -> 0; G untouched
            for _ in range(self.d_steps):
                d_loss = gan_discriminator_loss(self.disc(hr), self.disc(sr.detach()))
                opt_d.zero_grad()
                self.manual_backward(d_loss)
                opt_d.step()
        with self.toggled_optimizer(opt_g):  # G step: content + adversarial; D gets no gradient
            terms = self.content_loss(sr, hr)
            terms["adversarial"] = self.loss_cfg["adversarial"] * gan_generator_loss(self.disc(sr), self.loss_cfg["gan_mode"])
            g_loss = sum(terms.values())
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
        n = len(hr)
        self.log_dict({f"train/{k}": v for k, v in terms.items()} | {"train/d_loss": d_loss}, batch_size=n)
        self.log("train/loss", g_loss, prog_bar=True, batch_size=n)
        return g_loss.detach()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        hr = batch["hr"]
        lr = bicubic_down(hr, self.scale)
        for suffix, pred in (("", self.net(lr)), ("_bicubic", bicubic_up(lr, self.scale))):
            for k, v in sr_scores(pred, hr, border=self.scale).items():
                self._val.setdefault(k + suffix, []).append(v.detach().float().cpu())

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        logs = {f"val/{k}": float(torch.cat(v).mean()) for k, v in self._val.items()}
        self._val = {}
        logs["val/psnr_gain"] = logs["val/psnr"] - logs["val/psnr_bicubic"]
        logs["val/hf_gap"] = abs(1.0 - logs["val/hf_ratio"])
        psnr = logs.pop("val/psnr")
        self.log_dict(logs, sync_dist=True)
        self.log("val/psnr", psnr, prog_bar=True, sync_dist=True)

    def configure_optimizers(self) -> Any:
        if not self.adversarial:
            return configure_optimizer(self, self.optim_cfg)
        opt_g = build_optimizer(trainable(self.net), self.optim_cfg)
        opt_d = build_optimizer(self.disc.parameters(), self.optim_cfg | {"lr": self.d_lr})
        return [opt_g, opt_d]
