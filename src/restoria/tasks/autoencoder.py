"""Autoencoders (task ae: plain, sparse, denoising) and the variational autoencoder (task vae).

loss: {recon: bce | mse, recon_factor: 1.0, kl_weight: 1.0 (VAE), sparsity: 0.0 (weight of the L1 norm
of the code: a sparse AE), noise: 0.0 (std of Gaussian noise added to the input only: a denoising AE
learns to return the clean image)}. Reconstruction is summed over pixels per image (the ELBO's scale).

Validation logs `val/recon` (reconstruction of the clean validation images), `val/mse` (per pixel)
and for the VAE `val/kl` and `val/loss` (the negative ELBO: the VAE's own objective, so its best
checkpoint is the best trade-off of fitting and a usable prior, not the best copy machine). Figures:
RUN/figures/recon-step<N>.png (validation images, their reconstructions below) and, for the VAE,
samples-step<N>.png decoded from N(0, I).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F

from restoria.losses import vae_loss
from restoria.models import create_model
from restoria.tasks.common import configure_optimizer, figure_path
from restoria.tasks.sample import draw, save_grid


class AutoencoderTask(L.LightningModule):
    """`self.net` is an Autoencoder or a VAE (model.name autoencoder / vae)."""

    def __init__(self, model: dict[str, Any], loss: dict[str, Any] | None = None, optimizer: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        model = dict(model)
        self.net = create_model(model.pop("name", "autoencoder"), **model)
        cfg = {"recon": "bce", "recon_factor": 1.0, "kl_weight": 1.0, "sparsity": 0.0, "noise": 0.0}
        unknown = set(loss or {}) - set(cfg)
        if unknown:
            raise ValueError(f"unknown autoencoder loss setting(s) {sorted(unknown)}; known: {', '.join(cfg)}")
        cfg.update(loss or {})
        if cfg["recon"] not in ("bce", "mse"):
            raise ValueError(f"loss.recon must be bce or mse, got {cfg['recon']!r}")
        self.loss_cfg = cfg
        self.optim_cfg = {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "schedule": "none"}
        self.optim_cfg.update(optimizer or {})
        self.val_batch: torch.Tensor | None = None

    def configure_optimizers(self) -> Any:
        return configure_optimizer(self, self.optim_cfg)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.net(x)

    def loss_terms(self, clean: torch.Tensor, noisy: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The weighted objective and its terms for images `clean` (the target), fed as `noisy` if given."""
        c = self.loss_cfg
        out = self.net(clean if noisy is None else noisy)
        if self.net.variational:
            return vae_loss(out["logits"], clean, out["mu"], out["logvar"], c["recon_factor"], c["kl_weight"], c["recon"])
        if c["recon"] == "bce":
            rec = F.binary_cross_entropy_with_logits(out["logits"], clean, reduction="none")
        else:
            rec = F.mse_loss(out["recon"], clean, reduction="none")
        rec = rec.flatten(1).sum(1).mean()
        terms = {"recon": rec, "loss": c["recon_factor"] * rec}
        if c["sparsity"]:
            terms["l1_code"] = out["code"].abs().sum(1).mean()
            terms["loss"] = terms["loss"] + c["sparsity"] * terms["l1_code"]
        return terms

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        clean = batch["image"]
        noisy = (clean + self.loss_cfg["noise"] * torch.randn_like(clean)).clamp(0, 1) if self.loss_cfg["noise"] else None
        terms = self.loss_terms(clean, noisy)
        self.log_dict({f"train/{k}": v.detach() for k, v in terms.items() if k != "loss"})
        self.log("train/loss", terms["loss"].detach(), prog_bar=True)
        return terms["loss"]

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        clean = batch["image"]
        terms = self.loss_terms(clean)
        n = clean.shape[0]
        self.log_dict({f"val/{k}": v for k, v in terms.items()}, batch_size=n, prog_bar=False)
        self.log("val/mse", F.mse_loss(self.net(clean)["recon"], clean), batch_size=n, prog_bar=True)
        if batch_idx == 0:
            self.val_batch = clean[:16]

    def on_validation_epoch_end(self) -> None:
        recon_path, samples_path = figure_path(self, "recon"), figure_path(self, "samples")
        if recon_path is None or self.val_batch is None:
            return
        x = self.val_batch
        with torch.no_grad():
            save_grid(torch.cat([x, self.net(x)["recon"]]).float().cpu(), len(x), recon_path)
        if self.net.variational:
            images, nrow = draw(self.net, 64, seed=0)
            save_grid(images, nrow, samples_path)
