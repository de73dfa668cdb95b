"""CycleGAN task: G and D alternate by manual optimisation, one training step is one global step, the
pool mixes older fakes in, and a short run on real photos writes its figure and weights."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch

from restoria.data.unpaired import UnpairedDataModule
from restoria.tasks.cyclegan import CycleGANTask, ImagePool

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


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(before[k], v) for k, v in after.items())


class StepRecorder(L.Callback):
    """Per optimiser step: which one ("g" or "d") and every network's state just before and just after
    it, so a change is that step's own doing (forwards in between do not count)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, dict[str, dict[str, torch.Tensor]], dict[str, dict[str, torch.Tensor]]]] = []

    def on_train_start(self, trainer: L.Trainer, module: CycleGANTask) -> None:
        nets = {"a_to_b": module.net.a_to_b, "b_to_a": module.net.b_to_a, "disc_a": module.disc_a, "disc_b": module.disc_b}
        before: dict[str, dict[str, torch.Tensor]] = {}

        def pre(opt: torch.optim.Optimizer, *_: object) -> None:
            before.update({name: snapshot(net) for name, net in nets.items()})

        def post(opt: torch.optim.Optimizer, *_: object) -> None:
            which = "g" if opt.param_groups[0]["params"][0] is next(module.net.parameters()) else "d"
            self.steps.append((which, dict(before), {name: snapshot(net) for name, net in nets.items()}))

        for opt in trainer.optimizers:
            opt.register_step_pre_hook(pre)
            opt.register_step_post_hook(post)


def test_each_step_moves_only_its_own_networks(dataset: Path) -> None:
    """At the default learning rates the G step moves both generators and neither discriminator, and
    the D step (on pooled, detached fakes) moves both discriminators and neither generator."""
    torch.manual_seed(0)
    task = CycleGANTask(**TINY)
    recorder = StepRecorder()
    fit(task, dataset, 2, limit_val_batches=0, callbacks=[recorder])
    assert "".join(s[0] for s in recorder.steps) == "gdgd"
    for which, before, after in recorder.steps:
        gens, discs = ("a_to_b", "b_to_a"), ("disc_a", "disc_b")
        own, other = (gens, discs) if which == "g" else (discs, gens)
        assert all(changed(before[n], after[n]) for n in own), which
        assert not any(changed(before[n], after[n]) for n in other), which


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
