"""The segmentation task: photo -> mask logit, for the lost region of a damaged photo or any binary mask."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torchmetrics.classification import BinaryAccuracy, BinaryJaccardIndex

from restoria.losses import segmentation_loss_terms
from restoria.models import create_model
from restoria.models.segmenter import segment_logits
from restoria.tasks.common import configure_optimizer, figure_path, load_matching
from restoria.tasks.show import prediction_grid


class SegmentTask(L.LightningModule):
    """Trains a U-Net (default: MobileNetV2 encoder, gray input) with a weighted sum of BCE, focal and
    dice losses (`loss: {bce: .., focal: .., dice: .., focal_alpha: 0.25, focal_gamma: 2}`).

    Validation logs pixel accuracy `val/acc` and the foreground IoU `val/iou` (torchmetrics, p > 0.5,
    accumulated over all validation pixels), and draws the first `show_rows` validation samples
    (input / true mask / prediction) into RUN/figures/predictions-step<N>.png.
    """

    def __init__(
        self,
        model: dict[str, Any],
        loss: dict[str, float] | None = None,
        optimizer: dict[str, Any] | None = None,
        show_rows: int = 4,
        init: str | None = None,
    ) -> None:
        """`init`: a trained segmenter's weights file to start from (every tensor that matches)."""
        super().__init__()
        self.save_hyperparameters()
        model = dict(model)
        self.net = create_model(model.pop("name", "unet"), **model)
        if init:
            load_matching(self.net, init)
        self.in_channels = int(model.get("in_channels", 1))
        loss_cfg = {"focal": 1.0, "dice": 1.0, "focal_alpha": 0.25, "focal_gamma": 2.0} if not loss else dict(loss)
        self.focal_alpha = loss_cfg.pop("focal_alpha", 0.25)
        self.focal_gamma = loss_cfg.pop("focal_gamma", 2.0)
        self.loss_weights = loss_cfg
        self.optim_cfg = {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "schedule": "none"}
        self.optim_cfg.update(optimizer or {})
        self.show_rows = show_rows
        self.val_acc = BinaryAccuracy()
        self.val_iou = BinaryJaccardIndex()
        self._shown: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, str]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mask logits (B, 1, H, W) for images (B, C, H, W) of any size."""
        if x.shape[1] != self.in_channels:
            raise ValueError(f"the model takes {self.in_channels}-channel images, the data gives {x.shape[1]}: set data.channels to match")
        return segment_logits(self.net, x)

    def _losses(self, logits: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return segmentation_loss_terms(logits, mask, self.loss_weights, self.focal_alpha, self.focal_gamma)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        terms = self._losses(self(batch["input"]), batch["mask"])
        total = sum(terms.values())
        n = len(batch["input"])
        if len(terms) > 1:
            self.log_dict({f"train/{k}": v for k, v in terms.items()}, batch_size=n)
        self.log("train/loss", total, prog_bar=True, batch_size=n)
        return total

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        logits = self(batch["input"])
        mask = batch["mask"]
        self.log("val/loss", sum(self._losses(logits, mask).values()), batch_size=len(mask), sync_dist=True)
        prob = torch.sigmoid(logits)
        target = (mask > 0.5).int()
        self.val_acc.update(prob, target)
        self.val_iou.update(prob, target)
        for i in range(min(len(prob), self.show_rows - len(self._shown))):
            self._shown.append((batch["input"][i].cpu(), mask[i].cpu(), prob[i].float().cpu(), str(batch["id"][i])))

    def on_validation_epoch_end(self) -> None:
        self.log("val/acc", self.val_acc.compute(), sync_dist=True)
        self.log("val/iou", self.val_iou.compute(), prog_bar=True, sync_dist=True)
        self.val_acc.reset()
        self.val_iou.reset()
        path = figure_path(self, "predictions")
        if path is not None and self._shown:
            inputs, masks, probs, ids = zip(*self._shown)
            prediction_grid(inputs, masks, probs, path, ids)
        self._shown = []

    def configure_optimizers(self) -> Any:
        return configure_optimizer(self, self.optim_cfg)
