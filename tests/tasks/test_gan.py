"""Adversarial training: D and G alternate and each step moves only its own network, n_critic is kept,
the WGAN-GP critic's objective carries the penalty, and a run through `restoria train` leaves a
generator `restoria sample` can draw from."""

from __future__ import annotations

import itertools
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from conftest import invoke
from PIL import Image

from restoria.data.generative import GenerativeDataModule
from restoria.tasks.gan import GANTask
from restoria.weights import read_metadata

TINY_G = {"name": "dcgan_generator", "latent_dim": 8, "image_size": 8, "base_channels": 8}


def params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def moved(before: list[torch.Tensor], after: list[torch.Tensor]) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, after))


class StepRecorder(L.Callback):
    """Which optimizer steps, and both networks' weights just before each step and at the end."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, list[torch.Tensor], list[torch.Tensor]]] = []

    def on_before_optimizer_step(self, trainer: L.Trainer, module: GANTask, optimizer: torch.optim.Optimizer) -> None:
        which = "g" if optimizer.param_groups[0]["params"][0] is next(module.net.parameters()) else "d"
        self.steps.append((which, params(module.net), params(module.discriminator)))

    def on_train_end(self, trainer: L.Trainer, module: GANTask) -> None:
        self.steps.append(("end", params(module.net), params(module.discriminator)))


def fit(task: GANTask, batches: int) -> StepRecorder:
    recorder = StepRecorder()
    trainer = L.Trainer(
        max_epochs=1, limit_train_batches=batches, limit_val_batches=0, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[recorder], accelerator="cpu",
    )
    trainer.fit(task, datamodule=GenerativeDataModule("digits", image_size=8, batch_size=16))
    return recorder


@pytest.mark.parametrize(("kind", "n_critic"), [("gan", 1), ("wgan_gp", 3)])
def test_each_step_moves_only_its_own_network_and_n_critic_is_kept(kind: str, n_critic: int) -> None:
    torch.manual_seed(0)
    disc = {"norm": "layer"} if kind == "wgan_gp" else {}
    task = GANTask(model=TINY_G, loss={"kind": kind, "n_critic": n_critic}, discriminator={"base_channels": 8, **disc})
    steps = fit(task, 6).steps
    order = "".join(s[0] for s in steps[:-1])
    assert order == ("d" * (n_critic - 1) + "dg") * (6 // n_critic)
    for (which, g0, d0), (_, g1, d1) in itertools.pairwise(steps):
        if which == "d":
            assert moved(d0, d1) and not moved(g0, g1)
        else:
            assert moved(g0, g1) and not moved(d0, d1)


def test_wgan_gp_critic_loss_is_wasserstein_plus_penalty() -> None:
    torch.manual_seed(0)
    task = GANTask(model=TINY_G, loss={"kind": "wgan_gp", "gp_weight": 10.0}, discriminator={"base_channels": 8, "norm": "layer"})
    real, fake = torch.rand(8, 1, 8, 8) * 2 - 1, torch.rand(8, 1, 8, 8) * 2 - 1
    terms = task.discriminator_loss(real, fake, None)
    scores_real, scores_fake = task.discriminator(real), task.discriminator(fake)
    torch.testing.assert_close(terms["wasserstein"], scores_real.mean() - scores_fake.mean())
    assert float(terms["gp"]) > 0
    torch.testing.assert_close(terms["d_loss"], -terms["wasserstein"] + terms["gp"])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        GANTask(model=TINY_G, loss={"kind": "lsgan"})
    with pytest.raises(ValueError, match="n_critic"):
        GANTask(model=TINY_G, loss={"n_critic": 0})
    with pytest.raises(ValueError, match="unknown GAN loss"):
        GANTask(model=TINY_G, loss={"lambda": 3})


def test_cgan_trains_through_the_cli_and_samples_a_row_per_digit(tmp_path: Path, runner: object) -> None:
    cfg = {
        "task": "cgan",
        "model": {**TINY_G, "image_size": 16, "num_classes": 10},
        "discriminator": {"base_channels": 8},
        "data": {"image_size": 16, "batch_size": 32, "val_batch_size": 200},
        # the default gradient_clip_val stays: a task stepping its own optimisers is trained without it
        "trainer": {"max_steps": 8, "val_check_interval": 2, "checkpoint_every": 4, "precision": "32-true"},
    }
    config = tmp_path / "cgan.yaml"
    config.write_text(yaml.safe_dump(cfg))
    run = tmp_path / "run"
    res = invoke(runner, "train", "--config", config, "--data", "digits", "--out", run)
    assert res.exit_code == 0, res.output
    meta = read_metadata(run / "model.safetensors")
    assert meta["model"]["num_classes"] == 10 and meta["monitor"] == "val/kid"
    assert sorted((run / "figures").glob("samples-step*.png"))
    res = invoke(runner, "sample", "--weights", run / "model.safetensors", "--out", tmp_path / "grid.png", "--n", 30)
    assert res.exit_code == 0, res.output
    # 30 samples over 10 digits: a row of 3 per digit, 16 px images with 2 px gaps
    assert Image.open(tmp_path / "grid.png").size == (3 * 18 + 2, 10 * 18 + 2)
    res = invoke(runner, "sample", "--weights", run / "model.safetensors", "--out", tmp_path / "g.png", "--label", 12)
    assert res.exit_code == 2 and "--label must be in 0..9" in res.stderr


def test_class_count_must_match_the_data() -> None:
    task = GANTask(model={**TINY_G, "num_classes": 3}, discriminator={"base_channels": 8})
    with pytest.raises(ValueError, match="num_classes is 3 but digits has 10"):
        fit(task, 1)


def test_generator_loss_follows_the_configured_mode() -> None:
    torch.manual_seed(0)
    fake = torch.rand(4, 1, 8, 8) * 2 - 1
    for mode in ("minimax", "nonsaturating"):
        task = GANTask(model=TINY_G, loss={"mode": mode}, discriminator={"base_channels": 8}).eval()
        p = torch.sigmoid(task.discriminator(fake))
        want = torch.log(1 - p).mean() if mode == "minimax" else -torch.log(p).mean()
        torch.testing.assert_close(task.generator_loss(fake, None), want)
