"""The classification task: learns on real photos, trains through the shared `restoria train`."""

from __future__ import annotations

import csv
from pathlib import Path

import torch
import yaml
from conftest import fixed_batch, fixed_batch_losses, invoke
from PIL import Image

from restoria.data.base import layout_rows
from restoria.data.classify import LayoutClassDataset
from restoria.data.damage import DamageConfig
from restoria.models.classifier import ResNetClassifier
from restoria.tasks.classify import ClassifyTask
from restoria.weights import load_model, read_metadata


def test_loss_goes_down_on_a_fixed_batch(dataset: Path) -> None:
    torch.manual_seed(0)
    ds = LayoutClassDataset(layout_rows(dataset, "train")[:4], 64, True, DamageConfig())
    batch = fixed_batch(ds, 8, ("input", "label"))
    assert batch["label"].tolist() == [0.0, 1.0] * 4  # each photo clean and damaged
    # the source's recipe; without dropout so the fixed batch gives a steady loss to compare
    task = ClassifyTask(model={"backbone": "resnet50", "freeze": {"keras_layers": 143}, "dropout": 0.0}, optimizer={"lr": 1e-3})
    losses = fixed_batch_losses(task, batch, task.configure_optimizers(), 12)
    assert sum(losses[-3:]) < 0.7 * sum(losses[:3]), losses


def test_train_on_class_folders(tmp_path: Path, class_folder: Path, runner) -> None:
    cfg = {
        "task": "classify",
        "model": {"backbone": "resnet18", "freeze": ["conv1", "bn1", "layer1"]},
        "optimizer": {"lr": 0.001},
        "data": {"size": 64, "batch_size": 4, "val_batch_size": 4},
        "trainer": {"max_steps": 2, "val_check_interval": 2, "checkpoint_every": 1, "log_every_n_steps": 1},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    res = invoke(runner, "train", "--config", tmp_path / "c.yaml", "--data", class_folder, "--out", out)
    assert res.exit_code == 0, res.output
    meta = read_metadata(out / "model.safetensors")
    assert meta["model"]["name"] == "resnet_classifier" and meta["monitor"] == "val/acc"
    with open(out / "logs" / "metrics.csv") as fh:
        logged = {k for r in csv.DictReader(fh) for k, v in r.items() if v}
    assert {"val/acc", "val/precision", "val/recall", "val/auroc", "val/loss", "train/loss"} <= logged
    with Image.open(out / "figures" / "confusion-step000002.png") as im:
        assert im.size == (400, 360)
    model = load_model(out / "model.safetensors")
    assert isinstance(model, ResNetClassifier) and model.frozen[-1].startswith("layer1.")
    with torch.inference_mode():
        p = model.predict_proba(torch.rand(2, 1, 64, 64))
    assert p.shape == (2,) and bool(((p > 0) & (p < 1)).all())
