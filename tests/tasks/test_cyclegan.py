"""CycleGAN task: G and D alternate by manual optimisation, one training step is one global step, the
pool mixes older fakes in, and a short run on real photos writes its figure and weights."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from restoria.tasks.cyclegan import CycleGANTask, ImagePool
from restoria.unpaired_data import UnpairedDataModule

TINY = {"model": {"name": "cyclegan", "base_channels": 8, "n_blocks": 1}, "discriminator": {"base_channels": 8, "n_layers": 2}}


def fit(task: CycleGANTask, dataset: Path, steps: int, **kw: object) -> L.Trainer:
    dm = UnpairedDataModule(str(dataset), size=32, load_size=64, batch_size=2, max_val=2)
    trainer = L.Trainer(max_steps=steps, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", **kw)
    trainer.fit(task, datamodule=dm)
    return trainer


def test_alternating_steps_and_step_count(dataset: Path) -> None:
    torch.manual_seed(0)
    task = CycleGANTask(**TINY)
    g = [p.detach().clone() for p in task.net.parameters()]
    d = [p.detach().clone() for p in task.disc_a.parameters()]
    trainer = fit(task, dataset, 3, limit_val_batches=0)
    assert trainer.global_step == 3  # G and D steps together count once
    assert any(not torch.equal(a, b) for a, b in zip(g, task.net.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d, task.disc_a.parameters()))


def test_discriminator_step_leaves_generators(dataset: Path) -> None:
    torch.manual_seed(0)
    task = CycleGANTask(**TINY, optimizer={"lr": 0.0})  # nothing moves with lr 0 ...
    task.optim_cfg["lr"] = 0.0
    g = [p.detach().clone() for p in task.net.parameters()]
    fit(task, dataset, 1, limit_val_batches=0)
    assert all(torch.equal(a, b) for a, b in zip(g, task.net.parameters()))


def test_validation_scores_the_colorizer(dataset: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    task = CycleGANTask(**TINY)
    trainer = fit(task, dataset, 2, val_check_interval=2, default_root_dir=str(tmp_path))
    m = trainer.callback_metrics
    assert {"val/cycle", "val/score", "val/hist", "val/saturation"} <= set(m)
    assert float(m["val/cycle"]) > 0
    assert list((tmp_path / "figures").glob("cyclegan-step*.png"))


def test_image_pool_returns_stored_fakes() -> None:
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: the new images come back
    out = pool.query(torch.full((64, 1, 1, 1), 9.0))
    old = (out != 9).sum().item()
    assert 0 < old <= 4  # some stored images were returned instead (each at most once)
    assert ImagePool(0).query(first) is first
