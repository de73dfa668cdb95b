"""Adversarial fine-tuning of the colorizer: D and the colorizer alternate, the frozen inpainter stays."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch

from conftest import TINY_MODEL
from restoria.data import RestoreDataModule
from restoria.tasks.restore_adversarial import AdversarialRestoreTask
from restoria.weights import save_weights


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def fit(task: AdversarialRestoreTask, dataset: Path, steps: int) -> L.Trainer:
    dm = RestoreDataModule(str(dataset), crop=64, batch_size=2, damage={"max_bbox": 100})
    trainer = L.Trainer(max_steps=steps, limit_val_batches=0, num_sanity_val_steps=0, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(task, datamodule=dm)
    return trainer


def test_steps_train_colorizer_and_discriminator_only(tmp_path: Path, dataset: Path) -> None:
    torch.manual_seed(0)
    init = tmp_path / "init.safetensors"
    save_weights(AdversarialRestoreTask(model=TINY_MODEL).net, init, TINY_MODEL)
    task = AdversarialRestoreTask(model=TINY_MODEL, init=str(init), freeze=["inpainter"],
                                  discriminator={"base_channels": 8, "n_layers": 2})
    inpainter, colorizer, disc = snapshot(task.net.inpainter), snapshot(task.net.colorizer), snapshot(task.discriminator)
    assert fit(task, dataset, 2).global_step == 2  # the D step does not count as a training step
    assert not changed(inpainter, task.net.inpainter)  # frozen: weights and batch-norm statistics
    assert changed(colorizer, task.net.colorizer) and changed(disc, task.discriminator)
    opt_g, opt_d = task.optimizers()
    assert all(p.requires_grad for g in opt_d.param_groups for p in g["params"])
    g_params = {id(p) for g in opt_g.param_groups for p in g["params"]}
    assert g_params.isdisjoint(id(p) for p in task.discriminator.parameters())
    assert g_params.isdisjoint(id(p) for p in task.net.inpainter.parameters())


def test_generator_step_leaves_the_discriminator(dataset: Path) -> None:
    """With the D learning rate at 0 only the restorer moves: the G step does not update D."""
    torch.manual_seed(0)
    task = AdversarialRestoreTask(model=TINY_MODEL, optimizer={"d_lr": 0.0}, discriminator={"base_channels": 8, "n_layers": 2, "norm": "none"})
    disc, net = snapshot(task.discriminator), snapshot(task.net)
    fit(task, dataset, 1)
    assert not changed(disc, task.discriminator) and changed(net, task.net)


def test_bad_gan_mode() -> None:
    with pytest.raises(ValueError, match="gan_mode"):
        AdversarialRestoreTask(model=TINY_MODEL, loss={"gan_mode": "hinge"})
