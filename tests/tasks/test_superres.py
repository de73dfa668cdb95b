"""The super-resolution task: SRResNet learns on real photos; SRGAN alternates D and G steps; both
train through `restoria train`."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
import yaml
from conftest import fixed_batch_losses, invoke

from restoria.config import load_config
from restoria.data.superres import SRDataModule
from restoria.imaging import to_tensor
from restoria.tasks.superres import SuperResTask
from restoria.tasks.train import TASKS
from restoria.weights import load_model, read_metadata

TINY_SR = {"name": "srresnet", "scale": 2, "channels": 8, "n_blocks": 2, "batch_norm": False}
TINY_D = {"base": 8, "stages": 2, "dense": 16}


def real_hr_batch(photos: dict[str, np.ndarray], size: int = 48) -> dict[str, torch.Tensor]:
    crops = [photos[n][100 : 100 + size, 100 : 100 + size] for n in ("astronaut", "chelsea", "coffee", "rocket")]
    return {"hr": torch.stack([to_tensor(c) for c in crops])}


def test_a_few_steps_lower_the_loss_on_real_photos(photos: dict[str, np.ndarray]) -> None:
    torch.manual_seed(0)
    task = SuperResTask(model=TINY_SR, loss={"l1": 1.0, "mse": 1.0})
    losses = fixed_batch_losses(task, real_hr_batch(photos), torch.optim.Adam(task.parameters(), lr=3e-3), 25)
    assert sum(losses[-3:]) < 0.5 * sum(losses[:3]), losses


class Snapshots(L.Callback):
    """G and D parameters before every optimiser step, and which optimiser was about to step."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, torch.Tensor], dict[str, torch.Tensor]]] = []

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: torch.optim.Optimizer) -> None:
        which = "D" if optimizer is trainer.optimizers[1] else "G"
        self.seen.append((which, clone(pl_module.net), clone(pl_module.disc)))


def clone(m: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in m.named_parameters()}


def changed(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a)


def test_srgan_alternates_d_and_g_steps(photo_dir: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    task = SuperResTask(model=TINY_SR, loss={"l1": 1.0, "adversarial": 1e-3}, optimizer={"lr": 1e-3}, discriminator=TINY_D)
    assert not task.automatic_optimization
    dm = SRDataModule(str(photo_dir), crop=32, batch_size=2, val_fraction=0.25)
    snap = Snapshots()
    trainer = L.Trainer(max_steps=4, limit_val_batches=0, logger=False, enable_checkpointing=False, callbacks=[snap],
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(task, datamodule=dm)
    assert [w for w, _, _ in snap.seen] == ["D", "G", "D", "G"]  # max_steps counts both optimisers' steps
    after = (clone(task.net), clone(task.disc))
    states = [(g, d) for _, g, d in snap.seen] + [after]
    for (which, _, _), (g0, d0), (g1, d1) in zip(snap.seen, states, states[1:]):
        assert changed(d0, d1) == (which == "D") and changed(g0, g1) == (which == "G"), which


def sr_config(tmp_path: Path, **over: object) -> Path:
    cfg = {
        "task": "superres",
        "model": TINY_SR,
        "optimizer": {"lr": 1e-3},
        "data": {"crop": 32, "val_crop": 64, "batch_size": 2, "val_batch_size": 2, "max_val": 2},
        "trainer": {"max_steps": 3, "val_check_interval": 2, "checkpoint_every": 1, "log_every_n_steps": 1},
    }
    cfg.update(over)
    path = tmp_path / "sr.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def sr_run(dataset: Path, tmp_path_factory: pytest.TempPathFactory, runner) -> Path:
    """An SRResNet run folder trained for 3 steps with `restoria train`."""
    tmp = tmp_path_factory.mktemp("sr")
    res = invoke(runner, "train", "--config", sr_config(tmp), "--data", dataset, "--out", tmp / "run")
    assert res.exit_code == 0, res.output
    return tmp / "run"


def test_train_command_logs_psnr_beside_bicubic_and_exports_the_generator(sr_run: Path) -> None:
    meta = read_metadata(sr_run / "model.safetensors")
    assert meta["model"]["name"] == "srresnet" and meta["monitor"] == "val/psnr"
    header = (sr_run / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"val/psnr", "val/psnr_bicubic", "val/psnr_gain", "val/ssim", "val/hf_ratio"} <= set(header)
    net = load_model(sr_run / "model.safetensors")
    assert net(torch.rand(1, 3, 10, 12)).shape == (1, 3, 20, 24)


def test_srgan_trains_from_an_srresnet_run_through_the_command(sr_run: Path, dataset: Path, tmp_path: Path, runner) -> None:
    cfg = sr_config(tmp_path, init=str(sr_run / "model.safetensors"), discriminator=TINY_D, monitor="val/hf_gap", monitor_mode="min",
                    loss={"l1": 1.0, "adversarial": 1e-3}, trainer={"max_steps": 4, "val_check_interval": 1, "checkpoint_every": 2,
                                                                   "log_every_n_steps": 1, "gradient_clip_val": None})
    res = invoke(runner, "train", "--config", cfg, "--data", dataset, "--out", tmp_path / "srgan")
    assert res.exit_code == 0, res.output
    header = (tmp_path / "srgan" / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"train/adversarial", "train/d_loss", "val/hf_gap"} <= set(header)
    gan, start = load_model(tmp_path / "srgan" / "model.safetensors").state_dict(), load_model(sr_run / "model.safetensors").state_dict()
    assert set(gan) == set(start)  # the generator alone is exported, as an SRResNet
    assert any(not torch.equal(gan[k], start[k]) for k in gan)  # the adversarial steps moved it


def test_crop_must_be_a_multiple_of_the_scale(dataset: Path, tmp_path: Path, runner) -> None:
    cfg = sr_config(tmp_path, model={**TINY_SR, "scale": 4}, data={"crop": 30, "val_crop": 64, "batch_size": 2})
    res = invoke(runner, "train", "--config", cfg, "--data", dataset, "--out", tmp_path / "bad")
    assert res.exit_code == 2 and "data.crop (30) must be a multiple of model.scale (4)" in res.stderr


@pytest.mark.parametrize("name", ["sr_x2", "sr_x4", "srgan_x2"])
def test_shipped_configs_build(name: str, dataset: Path) -> None:
    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / f"{name}.yaml")
    task_cls, data_cls = TASKS[cfg["task"]]
    kwargs = {k: cfg[k] for k in ("model", "loss", "optimizer", "discriminator") if k in cfg}
    task = task_cls(**kwargs)  # `init` names a run made by the step before; not needed to build
    dm = data_cls(data=str(dataset), folds=None, fold=0, **cfg["data"])
    dm.setup()
    assert dm.crop % task.scale == 0 and dm.val_crop % task.scale == 0
    assert task.adversarial == (name == "srgan_x2")
    if task.adversarial:
        assert cfg["init"] == "runs/sr_x2/model.safetensors" and cfg["trainer"]["gradient_clip_val"] is None
        assert cfg["model"] == load_config(Path(__file__).resolve().parents[2] / "configs" / "sr_x2.yaml")["model"]
