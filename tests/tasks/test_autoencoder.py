"""Autoencoder and VAE tasks on real digits: the VAE objective falls, the denoising and sparse variants
use their noise and penalty, and a run leaves weights `restoria sample` draws and interpolates from."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from conftest import fixed_batch_losses, invoke
from PIL import Image

from restoria.data.generative import digits
from restoria.losses import kl_divergence
from restoria.tasks.autoencoder import AutoencoderTask

TINY_VAE = {"name": "vae", "image_size": 16, "latent_dim": 4, "base_channels": 8}


@pytest.fixture(scope="module")
def batch() -> dict[str, torch.Tensor]:
    images, labels = digits(16)
    return {"image": images[:64], "label": torch.tensor(labels[:64])}


def test_vae_loss_goes_down_on_real_digits(batch: dict[str, torch.Tensor]) -> None:
    torch.manual_seed(0)
    task = AutoencoderTask(model=TINY_VAE)
    losses = fixed_batch_losses(task, batch, torch.optim.Adam(task.parameters(), lr=3e-3), 40)
    assert sum(losses[-3:]) < 0.75 * sum(losses[:3]), losses


def test_vae_objective_is_reconstruction_plus_weighted_kl(batch: dict[str, torch.Tensor]) -> None:
    task = AutoencoderTask(model=TINY_VAE, loss={"kl_weight": 0.25, "recon_factor": 2.0}).eval()
    x = batch["image"][:8]
    terms = task.loss_terms(x)
    out = task.net(x)
    torch.testing.assert_close(terms["kl"], kl_divergence(out["mu"], out["logvar"]))
    torch.testing.assert_close(terms["loss"], 2.0 * terms["recon"] + 0.25 * terms["kl"])


def test_sparse_penalty_and_denoising_input(batch: dict[str, torch.Tensor]) -> None:
    torch.manual_seed(0)
    model = {**TINY_VAE, "name": "autoencoder"}
    x = batch["image"][:8]
    plain = AutoencoderTask(model=model).eval()
    sparse = AutoencoderTask(model=model, loss={"sparsity": 0.5}).eval()
    sparse.net.load_state_dict(plain.net.state_dict())
    t_plain, t_sparse = plain.loss_terms(x), sparse.loss_terms(x)
    code = plain.net.encode(x)
    torch.testing.assert_close(t_sparse["l1_code"], code.abs().sum(1).mean())
    torch.testing.assert_close(t_sparse["loss"], t_plain["loss"] + 0.5 * t_sparse["l1_code"])
    # the denoising AE is fed a noisy copy and scored against the clean one
    seen: list[torch.Tensor] = []
    denoise = AutoencoderTask(model=model, loss={"noise": 0.3})
    denoise.net.encoder.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    denoise.training_step({"image": x, "label": batch["label"][:8]}, 0)
    assert (seen[0] - x).abs().mean() > 0.1 and seen[0].min() >= 0 and seen[0].max() <= 1


def test_vae_trains_through_the_cli_then_samples_and_interpolates(tmp_path: Path, runner: object) -> None:
    cfg = {
        "task": "vae",
        "model": TINY_VAE,
        "data": {"image_size": 16, "batch_size": 64, "val_batch_size": 200},
        "trainer": {"max_steps": 6, "val_check_interval": 3, "checkpoint_every": 3, "precision": "32-true"},
    }
    config = tmp_path / "vae.yaml"
    config.write_text(yaml.safe_dump(cfg))
    run = tmp_path / "run"
    res = invoke(runner, "train", "--config", config, "--data", "digits", "--out", run)
    assert res.exit_code == 0, res.output
    assert sorted((run / "figures").glob("samples-step*.png")) and sorted((run / "figures").glob("recon-step*.png"))
    weights = run / "model.safetensors"
    res = invoke(runner, "sample", "--weights", weights, "--out", tmp_path / "grid.png", "--n", 12)
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "grid.png").size == (4 * 18 + 2, 3 * 18 + 2)  # 12 samples, 4 per row
    images, _ = digits(16)
    for i in (0, 1):
        Image.fromarray((images[i, 0] * 255).round().byte().numpy()).save(tmp_path / f"d{i}.png")
    res = invoke(runner, "sample", "--weights", weights, "--out", tmp_path / "walk.png", "--interpolate", tmp_path / "d0.png",
                 tmp_path / "d1.png", "--steps", 7)
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "walk.png").size == (7 * 18 + 2, 18 + 2)
    res = invoke(runner, "sample", "--weights", weights, "--out", tmp_path / "w.png", "--interpolate", tmp_path / "nope.png", "random")
    assert res.exit_code == 2 and "nope.png: file not found" in res.stderr
