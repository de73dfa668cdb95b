"""The classification task: is this photo damaged? (or any binary question a class-folder dataset asks)."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection
from torchmetrics.classification import BinaryAccuracy, BinaryAUROC, BinaryConfusionMatrix, BinaryPrecision, BinaryRecall

from restoria.losses import binary_focal_loss
from restoria.models import create_model
from restoria.tasks.common import configure_optimizer, figure_path, load_matching
from restoria.tasks.show import confusion_figure


class ClassifyTask(L.LightningModule):
    """Fine-tunes a ResNet classifier (default: timm resnet50, the source project's head and freezing;
    see restoria.models.classifier) with BCE (`loss: {bce: 1}`) and/or focal loss (`focal`, with
    `focal_alpha`, `focal_gamma`).

    Validation logs `val/acc`, `val/precision`, `val/recall` (at p > 0.5) and `val/auroc`, and draws
    the confusion matrix into RUN/figures/confusion-step<N>.png.
    """

    def __init__(
        self, model: dict[str, Any], loss: dict[str, float] | None = None, optimizer: dict[str, Any] | None = None, init: str | None = None
    ) -> None:
        """`init`: a trained classifier's weights file to start from (every tensor that matches)."""
        super().__init__()
        self.save_hyperparameters()
        model = dict(model)
        self.net = create_model(model.pop("name", "resnet_classifier"), **model)
        if init:
            load_matching(self.net, init)
        cfg = {"bce": 1.0, "focal": 0.0, "focal_alpha": 0.25, "focal_gamma": 2.0}
        unknown = set(loss or {}) - set(cfg)
        if unknown:
            raise ValueError(f"unknown classification loss setting(s) {sorted(unknown)}; known: {', '.join(cfg)}")
        cfg.update(loss or {})
        if not (cfg["bce"] or cfg["focal"]):
            raise ValueError("classification loss: give bce or focal a non-zero weight")
        self.loss_cfg = cfg
        self.optim_cfg = {"name": "adam", "lr": 1e-4, "weight_decay": 0.0, "schedule": "none"}
        self.optim_cfg.update(optimizer or {})
        self.val_metrics = MetricCollection(
            {"acc": BinaryAccuracy(), "precision": BinaryPrecision(), "recall": BinaryRecall(), "auroc": BinaryAUROC()}, prefix="val/"
        )
        self.val_confusion = BinaryConfusionMatrix()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One logit per image (B,)."""
        return self.net(x)

    def loss(self, logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        c = self.loss_cfg
        total = logits.new_zeros(())
        if c["bce"]:
            total = total + c["bce"] * F.binary_cross_entropy_with_logits(logits, label)
        if c["focal"]:
            total = total + c["focal"] * binary_focal_loss(logits, label, c["focal_alpha"], c["focal_gamma"])
        return total

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss = self.loss(self(batch["input"]), batch["label"])
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["label"]))
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        logits = self(batch["input"])
        label = batch["label"]
        self.log("val/loss", self.loss(logits, label), batch_size=len(label), sync_dist=True)
        prob, target = torch.sigmoid(logits), label.int()
        self.val_metrics.update(prob, target)
        self.val_confusion.update(prob, target)

    def on_validation_epoch_end(self) -> None:
        self.log_dict(self.val_metrics.compute(), prog_bar=True, sync_dist=True)
        self.val_metrics.reset()
        matrix = self.val_confusion.compute()
        self.val_confusion.reset()
        path = figure_path(self, "confusion")
        if path is not None:
            datamodule = getattr(self.trainer, "datamodule", None)
            confusion_figure(matrix, getattr(datamodule, "classes", ("negative", "positive")), path)

    def configure_optimizers(self) -> Any:
        return configure_optimizer(self, self.optim_cfg)
