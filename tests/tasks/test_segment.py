"""The segmentation task: learns on real photos, trains through the shared `restoria train`, draws its predictions."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import yaml
from conftest import fixed_batch, fixed_batch_losses, invoke
from PIL import Image

from restoria.data.base import layout_rows
from restoria.data.damage import DamageConfig
from restoria.data.segment import FreshDamageMasks
from restoria.models.segmenter import segment_logits
from restoria.tasks.segment import SegmentTask
from restoria.weights import load_model, read_metadata

TINY_UNET = {"name": "unet", "encoder": "mobilenet_v2", "decoder_channels": [32, 16, 16, 8, 8]}


def tiny_config(tmp_path: Path, **data: object) -> Path:
    cfg = {
        "task": "segment",
        "model": TINY_UNET,
        "optimizer": {"lr": 0.003},
        "data": {"size": 64, "batch_size": 4, "val_batch_size": 4, "damage": {"max_bbox": 100}, **data},
        "trainer": {"max_steps": 3, "val_check_interval": 2, "checkpoint_every": 1, "log_every_n_steps": 1},
    }
    path = tmp_path / "segment.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_loss_goes_down_on_a_fixed_batch(dataset: Path) -> None:
    torch.manual_seed(0)
    rows = layout_rows(dataset, "train")
    ds = FreshDamageMasks([r.gt for r in rows[:4]], 64, "crop", 1, DamageConfig(max_bbox=100))
    batch = fixed_batch(ds, 4, ("input", "mask"))
    task = SegmentTask(model=TINY_UNET, loss={"focal": 1.0, "dice": 1.0})
    losses = fixed_batch_losses(task, batch, torch.optim.Adam(task.parameters(), lr=3e-3), 30)
    assert sum(losses[-3:]) < 0.85 * sum(losses[:3]), losses


def test_any_size_and_channel_check() -> None:
    task = SegmentTask(model=TINY_UNET).eval()
    with torch.inference_mode():
        assert task(torch.rand(1, 1, 50, 70)).shape == (1, 1, 50, 70)  # padded to the U-Net's multiple, cropped back
        with pytest.raises(ValueError, match="data.channels"):
            task(torch.rand(1, 3, 64, 64))


def test_train_on_a_prepared_dataset_and_show(tmp_path: Path, dataset: Path, runner) -> None:
    out = tmp_path / "run"
    res = invoke(runner, "train", "--config", tiny_config(tmp_path), "--data", dataset, "--out", out)
    assert res.exit_code == 0, res.output
    meta = read_metadata(out / "model.safetensors")
    assert meta["model"]["name"] == "unet" and meta["monitor"] == "val/iou"
    with open(out / "logs" / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r for r in rows if r.get("val/iou")] and [r for r in rows if r.get("val/acc")]
    grids = sorted((out / "figures").glob("predictions-step*.png"))
    assert [g.name for g in grids] == ["predictions-step000002.png", "predictions-step000003.png"]
    with Image.open(grids[-1]) as im:
        assert im.size == (3 * 256, 4 * 256)  # input / true / predicted for 4 val photos
    net = load_model(out / "model.safetensors")
    x = torch.rand(1, 1, 64, 64)
    with torch.inference_mode():
        assert segment_logits(net, x).shape == (1, 1, 64, 64)
    res = invoke(runner, "show", "--weights", out / "model.safetensors", "--data", dataset, "--split", "test", "--n", 2, "--out", tmp_path / "g.png")
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (3 * 256, 2 * 256)


def test_train_on_an_image_mask_folder(tmp_path: Path, mask_folder: Path, runner) -> None:
    cfg = tiny_config(tmp_path, fit="resize")
    data = yaml.safe_load(cfg.read_text())
    data["trainer"]["val_check_interval"] = 1.0  # once per epoch: the 1-step run still validates at its end
    data["trainer"]["max_steps"] = 1
    cfg.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    res = invoke(runner, "train", "--config", cfg, "--data", mask_folder, "--out", out)
    assert res.exit_code == 0, res.output
    assert (out / "model.safetensors").exists()
    res = invoke(runner, "show", "--weights", out / "model.safetensors", "--data", mask_folder, "--out", tmp_path / "g.png")
    assert res.exit_code == 0, res.output
    with Image.open(tmp_path / "g.png") as im:
        assert im.size == (3 * 256, 3 * 256)  # the 3 held-out photos of 9
    res = invoke(runner, "show", "--weights", out / "model.safetensors", "--data", mask_folder, "--split", "test", "--out", tmp_path / "h.png")
    assert res.exit_code == 2 and "train and val" in res.stderr
