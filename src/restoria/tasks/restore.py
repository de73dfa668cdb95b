"""The restoration task: damaged gray -> restored gray -> colour, scored with the competition metric."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from kornia.color import rgb_to_ycbcr
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from restoria.imaging import to_tensor, to_uint8
from restoria.inference.colour import to_uint8_keep_hue
from restoria.inference.restorer import Restorer
from restoria.losses import hue_classification_loss, hue_histogram_loss, masked_l1, masked_ssim_loss, reconstruction_loss
from restoria.metrics.score import CompetitionScore, mean_saturation
from restoria.models import create_model
from restoria.models.two_stage.hue import hue_index
from restoria.tasks.common import configure_optimizer, load_matching


class RestoreTask(L.LightningModule):
    """Trains a restorer (default: the two-stage U-Net) with pixel losses on fresh damage.

    Validation runs the full-size val split and logs the exact competition score (`val/score`), which
    drives checkpointing and early stopping, plus torchmetrics PSNR/SSIM.

    `init` starts from a trained weights file (tensors whose shape matches; e.g. a new colour head on a
    trained network) and `freeze` lists sub-networks (`inpainter`, `colorizer`, `colorizer.encoder`)
    kept as they are. `colorize_from: truth` trains the colorizer on the true gray photo instead of
    the inpainter's output: with the inpainter frozen, stage 1 then never runs (a third of a step's
    time), and the shipped pipeline fills the damage classically anyway.
    """

    def __init__(
        self,
        model: dict[str, Any],
        loss: dict[str, float] | None = None,
        optimizer: dict[str, Any] | None = None,
        val_chroma_gains: list[float] | None = None,
        init: str | None = None,
        freeze: list[str] | None = None,
        colorize_from: str = "restored",
        val_pipeline: str = "model",
    ) -> None:
        super().__init__()
        if colorize_from not in ("restored", "truth"):
            raise ValueError(f"colorize_from must be 'restored' or 'truth', got {colorize_from!r}")
        if val_pipeline not in ("model", "shipped"):
            raise ValueError(f"val_pipeline must be 'model' or 'shipped', got {val_pipeline!r}")
        self.colorize_from = colorize_from
        self.val_pipeline = val_pipeline
        self._val_restorer: Restorer | None = None
        self.save_hyperparameters()
        model = dict(model)
        self.net = create_model(model.pop("name", "two_stage"), **model)
        loaded = load_matching(self.net, init) if init else set()
        refiner = getattr(self.net, "refiner", None)
        if refiner is not None and init and not any(k.startswith("refiner.") for k in loaded):
            self.net.refiner_from_inpainter()  # a new refiner on a trained restorer
        if refiner is not None and "inpainter" not in (freeze or []):
            raise ValueError("a refiner learns on a trained damage head: add `inpainter` to `freeze`")
        self.frozen = [self.net.get_submodule(name) for name in freeze or []]  # e.g. inpainter, colorizer.encoder
        for sub in self.frozen:
            sub.requires_grad_(False)
        self.loss_cfg = {
            "gray_l1": 1.0, "gray_mse": 1.0, "rgb_l1": 1.0, "rgb_mse": 1.0, "hole_l1": 0.0, "mask_bce": 1.0, "chroma_ce": 1.0,
            "hue_hist": 0.0, "hue_ce": 1.0, "fill_l1": 1.0, "fill_ssim": 1.0,
        }
        self.loss_cfg.update(loss or {})
        self.optim_cfg = {"lr": 1e-3, "weight_decay": 1e-4, "schedule": "cosine"}
        self.optim_cfg.update(optimizer or {})
        self.val_chroma_gains = list(val_chroma_gains or [])
        self.val_psnr = PeakSignalNoiseRatio(data_range=1.0)
        self.val_ssim = StructuralSimilarityIndexMeasure(data_range=1.0)
        # the score of the shipped output, and of the colour at each extra chroma gain; torchmetrics
        # adds every process's photos when they are computed
        self.val_scores = nn.ModuleDict({gain_key(g): CompetitionScore() for g in [None, *self.val_chroma_gains]})
        self.val_saturation = nn.ModuleDict({k: MeanMetric() for k in ("pred", "true")})

    def forward(self, gray: torch.Tensor, chroma_gain: float | None = None) -> dict[str, torch.Tensor]:
        return self.net(gray, chroma_gain)

    def train(self, mode: bool = True) -> RestoreTask:
        """Frozen sub-networks stay in eval mode, so their batch-norm statistics do not drift."""
        super().train(mode)
        for sub in self.frozen:
            sub.eval()
        return self

    def on_train_epoch_start(self) -> None:
        """Lightning keeps each module's own mode and never calls train(): put the frozen ones in eval."""
        self.train()

    def on_fit_start(self) -> None:
        """A chroma-bin colorizer needs the colour prior of the training photos for its class
        rebalancing, and a hue head starts from their hue histogram; each is estimated once (a resumed
        or initialised run already carries it)."""
        bins = getattr(self.net, "bins", None)
        hue_prior = getattr(self.net, "hue_prior", None)
        need_bins = bins is not None and torch.allclose(bins.prior, torch.full_like(bins.prior, 1.0 / bins.classes))
        need_hue = hue_prior is not None and torch.allclose(hue_prior, torch.full_like(hue_prior, 1.0 / len(hue_prior)))
        if not (need_bins or need_hue):
            return
        loader = self.trainer.datamodule.train_dataloader()
        rgbs = [b["rgb"].to(self.device) for _, b in zip(range(64), loader)]
        if need_bins:
            bins.set_prior([rgb_to_ycbcr(rgb)[:, 1:] - 0.5 for rgb in rgbs])
        if need_hue:
            self.net.set_hue_prior(sum(torch.bincount(hue_index(rgb).flatten(), minlength=len(hue_prior)).float() for rgb in rgbs))

    def restore_losses(self, batch: dict[str, torch.Tensor], need_rgb: bool = False) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """The weighted pixel losses by name, and the predicted colour photo (when a loss or the caller
        needs it). Shared with the adversarial fine-tuning task, which adds its GAN term."""
        c = self.loss_cfg
        mask = batch["mask"]
        losses: dict[str, torch.Tensor] = {}
        refiner = getattr(self.net, "refiner", None)
        if refiner is not None:  # the hole is known in training: the refiner fills the true one
            with torch.set_grad_enabled(torch.is_grad_enabled() and refiner not in self.frozen):
                stage1 = self.net.inpaint(batch["input"], mask)
            if refiner not in self.frozen:
                losses["fill"] = c["fill_l1"] * masked_l1(stage1["fill"], batch["gray"], mask)
                if c["fill_ssim"]:
                    losses["fill_ssim"] = c["fill_ssim"] * masked_ssim_loss(stage1["gray"], batch["gray"], mask)
        elif self.net.inpainter in self.frozen and self.colorize_from == "truth":
            stage1 = {"gray": batch["gray"]}
        elif self.net.inpainter in self.frozen:
            with torch.no_grad():
                stage1 = self.net.inpaint(batch["input"])
        else:
            stage1 = self.net.inpaint(batch["input"])
            losses["gray"] = reconstruction_loss(stage1["gray"], batch["gray"], c["gray_l1"], c["gray_mse"])
            if c["hole_l1"]:
                losses["hole"] = c["hole_l1"] * masked_l1(stage1["fill"], batch["gray"], mask)
            if "mask_logit" in stage1 and c["mask_bce"]:
                losses["mask"] = c["mask_bce"] * F.binary_cross_entropy_with_logits(stage1["mask_logit"], mask)
        if self.net.colorizer in self.frozen and not need_rgb:
            return losses, None  # nothing to learn in stage 2
        # The colorizer learns from the restored gray it will see at inference, without pushing
        # colour gradients into the inpainter.
        gray = stage1["gray"].detach()
        raw, hue_logits = self.net.colorize_heads(gray)
        if hue_logits is not None and c["hue_ce"]:
            losses["hue"] = c["hue_ce"] * hue_classification_loss(hue_logits, batch["rgb"])
        if self.net.bins is not None and c["chroma_ce"]:
            losses["chroma"] = c["chroma_ce"] * self.net.bins.loss(raw, rgb_to_ycbcr(batch["rgb"])[:, 1:] - 0.5)
        rgb = None
        if c["rgb_l1"] or c["rgb_mse"] or c["hue_hist"] or need_rgb:
            rgb = self.net.to_rgb(gray, self.net.chroma(raw, gray.shape[-2:]))
        if c["rgb_l1"] or c["rgb_mse"]:
            losses["rgb"] = reconstruction_loss(rgb, batch["rgb"], c["rgb_l1"], c["rgb_mse"])
        if c["hue_hist"]:  # the score's hue term: each photo's colour distribution as a whole
            losses["hue_hist"] = c["hue_hist"] * hue_histogram_loss(rgb, batch["rgb"])
        return losses, rgb

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        losses, _ = self.restore_losses(batch)
        total = sum(losses.values())
        n = len(batch["mask"])
        self.log_dict({f"train/{k}": v for k, v in losses.items()}, batch_size=n)
        self.log("train/loss", total, prog_bar=True, batch_size=n)
        return total

    def pipeline_outputs(self, damaged: torch.Tensor) -> dict[str, torch.Tensor]:
        """What `restoria predict` makes of a batch of damaged grays with this network as its restorer:
        the shipped detection of the competition's damage (classifier, segmenter, flat fills; not the
        real-damage segmenter, which `predict` leaves off) and fill, then this colorizer. The filled gray
        and the colour, as tensors like the network's own outputs."""
        if self._val_restorer is None:
            self._val_restorer = Restorer(nets=[self.net], device=str(self.device), tile=None, real_segmenter=None)
        grays, rgbs = [], []
        for gray in damaged:
            result = self._val_restorer(to_uint8(gray))
            grays.append(to_tensor(result.inpainted))
            rgbs.append(to_tensor(result.restored))
        return {"gray": torch.stack(grays).to(damaged), "rgb": torch.stack(rgbs).to(damaged)}

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Scores the validation photos with the competition metric: through the shipped pipeline
        (`val_pipeline: shipped`, so checkpoint choice and early stopping follow what users get) or
        through the network alone (its own damage head and fill)."""
        out = self.pipeline_outputs(batch["input"]) if self.val_pipeline == "shipped" else self.net(batch["input"])
        self.val_psnr(out["rgb"], batch["rgb"])
        self.val_ssim(out["rgb"], batch["rgb"])
        for gain in [None, *self.val_chroma_gains]:
            rgb = out["rgb"] if gain is None else self.net.colorize(out["gray"], gain)
            for i in range(len(rgb)):
                true = to_uint8(batch["rgb"][i])
                pred = to_uint8_keep_hue(rgb[i])
                self.val_scores[gain_key(gain)].update(true, pred, batch["mask"][i, 0].cpu().numpy() > 0.5)
                if gain is None:  # how vivid: pix2pix-style training should raise it towards the truth's
                    self.val_saturation["pred"].update(mean_saturation(pred))
                    self.val_saturation["true"].update(mean_saturation(true))

    def on_validation_epoch_end(self) -> None:
        logs: dict[str, float] = {"val/psnr": float(self.val_psnr.compute()), "val/tm_ssim": float(self.val_ssim.compute())}
        logs |= {"val/saturation": float(self.val_saturation["pred"].compute()), "val/saturation_true": float(self.val_saturation["true"].compute())}
        for gain in self.val_chroma_gains:
            logs[f"val/score_gain{gain:g}"] = self.val_scores[gain_key(gain)].compute()["score"]
        shipped = self.val_scores[gain_key(None)].compute()
        logs |= {f"val/{k}": shipped[k] for k in ("ssim", "masked_ssim", "hist")}
        for metric in [self.val_psnr, self.val_ssim, *self.val_scores.values(), *self.val_saturation.values()]:
            metric.reset()
        # every metric already covers all processes' photos
        self.log_dict(logs)
        self.log("val/score", shipped["score"], prog_bar=True)

    def configure_optimizers(self) -> Any:
        return configure_optimizer(self, self.optim_cfg, default="adamw")


def gain_key(gain: float | None) -> str:
    """The validation metric's name for a chroma gain (None: the colour as shipped); no dots, which
    module names cannot hold."""
    return "shipped" if gain is None else f"gain{gain:g}".replace(".", "_")
