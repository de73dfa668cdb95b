"""Training: the loss goes down on a fixed batch, a run writes what it promises, --resume continues."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
import yaml
from conftest import TINY_MODEL, fixed_batch, fixed_batch_losses, invoke

from restoria.data.base import layout_rows
from restoria.data.damage import DamageConfig
from restoria.data.restore import FreshDamageDataset
from restoria.imaging import to_uint8
from restoria.tasks.restore import RestoreTask
from restoria.weights import load_model, read_metadata


def test_loss_goes_down_on_a_fixed_batch(dataset: Path) -> None:
    torch.manual_seed(0)
    rows = layout_rows(dataset, "train")
    ds = FreshDamageDataset([r.gt for r in rows[:4]], crop=64, damage=DamageConfig(max_bbox=100))
    batch = fixed_batch(ds, 4, ("input", "mask", "gray", "rgb"))
    task = RestoreTask(model=TINY_MODEL)
    losses = fixed_batch_losses(task, batch, torch.optim.Adam(task.parameters(), lr=3e-3), 25)
    assert losses[-1] < 0.5 * losses[0], losses


def test_run_folder(trained_run: Path) -> None:
    assert (trained_run / "checkpoints" / "last.ckpt").exists()
    assert (trained_run / "config.yaml").exists()
    with open(trained_run / "logs" / "metrics.csv") as fh:
        metrics = list(csv.DictReader(fh))
    scores = [float(r["val/score"]) for r in metrics if r.get("val/score")]
    assert scores and all(-1 < s < 1 for s in scores)
    meta = read_metadata(trained_run / "model.safetensors")
    assert meta["model"]["encoder"] == "mobilenet_v2" and meta["monitor"] == "val/score"
    model = load_model(trained_run / "model.safetensors")
    assert sum(p.numel() for p in model.parameters()) > 0


def test_resume_continues(tmp_path: Path, dataset: Path, tiny_config: Path, runner) -> None:
    out = tmp_path / "run"
    assert invoke(runner, "train", "--config", tiny_config, "--data", dataset, "--out", out, "--max-steps", 2).exit_code == 0
    first = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert first["global_step"] == 2
    again = invoke(runner, "train", "--config", tiny_config, "--data", dataset, "--out", out, "--max-steps", 2)
    assert again.exit_code == 2 and "--resume" in again.stderr
    res = invoke(runner, "train", "--config", tiny_config, "--data", dataset, "--out", out, "--max-steps", 4, "--resume")
    assert res.exit_code == 0, res.output
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["global_step"] == 4
    # the optimiser state travelled: Adam's step count continued from the first run
    state = next(iter(last["optimizer_states"][0]["state"].values()))
    assert int(state["step"]) == 4
    # the metrics of both parts of the run are in one CSV
    with open(out / "logs" / "metrics.csv") as fh:
        steps = {int(r["step"]) for r in csv.DictReader(fh) if r.get("train/loss")}
    assert {0, 1} <= steps and max(steps) >= 3  # before and after the resume


def test_folds_train(tmp_path: Path, dataset: Path, tiny_config: Path, runner) -> None:
    res = invoke(runner, "train", "--config", tiny_config, "--data", dataset, "--out", tmp_path / "f",
                 "--max-steps", 1, "--folds", 3, "--fold", 1)
    assert res.exit_code == 0, res.output


def test_train_on_group_folds(tmp_path: Path, dataset: Path, grouped: Path, tiny_config: Path, runner) -> None:
    groups = grouped
    out = tmp_path / "g"
    res = invoke(runner, "train", "--config", tiny_config, "--data", dataset, "--out", out, "--max-steps", 1,
                 "--groups", groups / "train_preproc.csv", "--drop-outliers", "--fold", 1)
    assert res.exit_code == 0, res.output
    saved = yaml.safe_load((out / "config.yaml").read_text())["data"]
    assert saved["groups"] == str(groups / "train_preproc.csv") and saved["drop_outliers"] is True
    res = invoke(runner, "train", "--config", tiny_config, "--data", dataset, "--out", tmp_path / "h", "--max-steps", 1,
                 "--groups", groups / "train_preproc.csv", "--folds", 3)
    assert res.exit_code == 2 and "holds 2 folds, not 3" in res.stderr



def test_frozen_inpainter_unchanged_by_fit(dataset: Path) -> None:
    """Frozen means frozen: weights AND batch-norm statistics (Lightning never calls train() itself)."""
    import lightning as L

    from restoria.data.restore import RestoreDataModule

    torch.manual_seed(0)
    task = RestoreTask(model=TINY_MODEL, freeze=["inpainter"])
    before = {k: v.clone() for k, v in task.net.inpainter.state_dict().items()}
    colorizer = {k: v.clone() for k, v in task.net.colorizer.state_dict().items()}
    dm = RestoreDataModule(str(dataset), crop=64, batch_size=2, damage={"max_bbox": 100})
    L.Trainer(max_steps=2, limit_val_batches=0, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
              enable_progress_bar=False, enable_model_summary=False, accelerator="cpu").fit(task, datamodule=dm)
    assert all(torch.equal(before[k], v) for k, v in task.net.inpainter.state_dict().items())
    assert any(not torch.equal(colorizer[k], v) for k, v in task.net.colorizer.state_dict().items())


def test_hue_histogram_term_trains_the_colorizer(dataset: Path) -> None:
    """`loss.hue_hist` alone (configs/restore_hue.yaml's term, pixel losses off): the hue loss falls on a
    fixed batch and only the colorizer learns from it (the restored gray it colours is detached)."""
    torch.manual_seed(0)
    rows = layout_rows(dataset, "train")
    ds = FreshDamageDataset([r.gt for r in rows[:4]], crop=64, damage=DamageConfig(max_bbox=100))
    batch = fixed_batch(ds, 4, ("input", "mask", "gray", "rgb"))
    off = {k: 0.0 for k in ("gray_l1", "gray_mse", "rgb_l1", "rgb_mse", "mask_bce")}
    task = RestoreTask(model=TINY_MODEL, loss={**off, "hue_hist": 1.0})
    losses = fixed_batch_losses(task, batch, torch.optim.Adam(task.net.colorizer.parameters(), lr=3e-3), 25)
    assert min(losses[-5:]) < losses[0] - 0.1, losses
    task.zero_grad()
    task.training_step(batch, 0).backward()
    assert all(p.grad is None for p in task.net.inpainter.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in task.net.colorizer.parameters())


def test_validation_through_the_shipped_pipeline_scores_what_restore_makes(dataset: Path) -> None:
    """`val_pipeline: shipped` scores the photos as `restoria predict` would restore them with this
    network: the shipped detection of the competition's damage and FSR fill, then its colorizer. An untrained network's own fill
    is noise; the shipped fill is not, so the hole scores far better, and the filled gray equals what
    the Restorer makes of the same photo."""
    from restoria.inference.restorer import Restorer

    torch.manual_seed(0)
    rows = layout_rows(dataset, "val")[:2]
    ds = FreshDamageDataset([r.gt for r in rows], crop=128, damage=DamageConfig(max_bbox=100), flip=False)
    batch = fixed_batch(ds, 2, ("input", "mask", "gray", "rgb"))
    masked = {}
    for mode in ("model", "shipped"):
        task = RestoreTask(model=TINY_MODEL, val_pipeline=mode).eval()
        torch.manual_seed(0)
        task.net = RestoreTask(model=TINY_MODEL).net.eval()  # the same untrained network in both
        with torch.no_grad():
            task.validation_step(batch, 0)
        masked[mode] = task.val_scores["shipped"].compute()["masked_ssim"]
        if mode == "shipped":
            out = task.pipeline_outputs(batch["input"])
            expected = Restorer(nets=[task.net], tile=None, real_segmenter=None)(to_uint8(batch["input"][0])).inpainted
            np.testing.assert_array_equal(to_uint8(out["gray"][0]), expected)
    assert masked["shipped"] > masked["model"] + 0.1, masked
