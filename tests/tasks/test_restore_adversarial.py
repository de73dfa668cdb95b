"""Adversarial fine-tuning of the colorizer: D and the colorizer alternate, the frozen inpainter stays."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from conftest import TINY_MODEL

from restoria.data.restore import RestoreDataModule
from restoria.tasks.restore_adversarial import AdversarialRestoreTask
from restoria.weights import save_weights


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module | dict[str, torch.Tensor]) -> bool:
    after = module if isinstance(module, dict) else module.state_dict()
    return any(not torch.equal(before[k], v) for k, v in after.items())


class StepRecorder(L.Callback):
    """Per optimiser step: which one ("g" or "d") and every network's state just before and just after
    it, so a change is that step's own doing (forwards in between, e.g. batch-norm statistics, do not count)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, dict[str, dict[str, torch.Tensor]], dict[str, dict[str, torch.Tensor]]]] = []

    def on_train_start(self, trainer: L.Trainer, module: AdversarialRestoreTask) -> None:
        nets = {"inpainter": module.net.inpainter, "colorizer": module.net.colorizer, "discriminator": module.discriminator}
        before: dict[str, dict[str, torch.Tensor]] = {}

        def pre(opt: torch.optim.Optimizer, *_: object) -> None:
            before.update({name: snapshot(net) for name, net in nets.items()})

        def post(opt: torch.optim.Optimizer, *_: object) -> None:
            d_params = {id(p) for p in module.discriminator.parameters()}
            which = "d" if id(opt.param_groups[0]["params"][0]) in d_params else "g"
            self.steps.append((which, dict(before), {name: snapshot(net) for name, net in nets.items()}))

        for opt in trainer.optimizers:
            opt.register_step_pre_hook(pre)
            opt.register_step_post_hook(post)


def fit(task: AdversarialRestoreTask, dataset: Path, steps: int, callbacks: list[L.Callback] | None = None) -> L.Trainer:
    dm = RestoreDataModule(str(dataset), crop=64, batch_size=2, damage={"max_bbox": 100})
    trainer = L.Trainer(max_steps=steps, limit_val_batches=0, num_sanity_val_steps=0, logger=False, callbacks=callbacks,
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


def test_each_step_moves_only_its_own_network(dataset: Path) -> None:
    """At the default learning rates (and D's default batch norm) the D step moves D and leaves the
    colorizer and frozen inpainter as they are, and the G step moves the colorizer and leaves D."""
    torch.manual_seed(0)
    task = AdversarialRestoreTask(model=TINY_MODEL, freeze=["inpainter"], discriminator={"base_channels": 8, "n_layers": 2})
    recorder = StepRecorder()
    fit(task, dataset, 2, callbacks=[recorder])
    assert "".join(s[0] for s in recorder.steps) == "dgdg"
    for which, before, after in recorder.steps:
        own, other = ("discriminator", "colorizer") if which == "d" else ("colorizer", "discriminator")
        assert changed(before[own], after[own]), which
        assert not changed(before[other], after[other]), which
        assert not changed(before["inpainter"], after["inpainter"]), which


def test_bad_gan_mode() -> None:
    with pytest.raises(ValueError, match="gan_mode"):
        AdversarialRestoreTask(model=TINY_MODEL, loss={"gan_mode": "hinge"})
