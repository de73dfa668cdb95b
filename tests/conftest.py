"""Shared fixtures: real photos bundled with scikit-image, scikit-learn and matplotlib (never trained on)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from skimage.metrics import structural_similarity
from typer.testing import CliRunner

from restoria.cli import app
from restoria.commands.examples import bundled_photos
from restoria.models import create_model
from restoria.weights import save_weights

TINY_MODEL = {
    "name": "two_stage",
    "encoder": "mobilenet_v2",
    "decoder_channels": [32, 16, 16, 8, 8],
    "color_space": "ycbcr",
    "predict_mask": True,
    "composite": True,
}


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """Real photos bundled with scikit-image, scikit-learn and matplotlib (never trained on)."""
    found = bundled_photos()
    assert {"astronaut", "chelsea", "coffee", "rocket"} <= set(found)
    return found


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> Path:
    """A folder of real colour photos as JPEG and PNG."""
    d = tmp_path_factory.mktemp("photos")
    for i, (name, img) in enumerate(sorted(photos.items())):
        Image.fromarray(img).save(d / f"{name}.{'jpg' if i % 2 else 'png'}", quality=95)
    return d


@pytest.fixture(scope="session")
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: object):
    """Run the CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def fixed_batch(ds: object, n: int, keys: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """A batch of the first `n` items, each drawn ONCE (fresh-damage datasets draw new damage at every
    read, so reading per key would pair an input with another draw's mask)."""
    items = [ds[i] for i in range(n)]
    return {k: torch.stack([item[k] for item in items]) for k in keys}


def fixed_batch_losses(
    task: torch.nn.Module, batch: dict[str, torch.Tensor], opt: torch.optim.Optimizer, steps: int
) -> list[float]:
    """The training loss over `steps` optimiser steps on one fixed batch: a task that can learn drives it down."""
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = task.training_step(batch, 0)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory, photo_dir: Path, runner: CliRunner) -> Path:
    """A small competition-layout dataset made by `restoria prepare` from the real photos."""
    out = tmp_path_factory.mktemp("data") / "ds"
    res = invoke(runner, "prepare", photo_dir, "--out", out, "--size", 128, "--val-fraction", 0.2,
                 "--test-fraction", 0.2, "--crops-per-photo", 2, "--seed", 3)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="session")
def grouped(tmp_path_factory: pytest.TempPathFactory, dataset: Path, runner: CliRunner) -> Path:
    """`restoria group` run on `dataset` with 2 folds: train_preproc.csv, test_preproc.csv, plots, embeddings."""
    out = tmp_path_factory.mktemp("groups")
    res = invoke(runner, "group", dataset, "--out", out, "--folds", 2)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = {
        "model": TINY_MODEL,
        "optimizer": {"lr": 0.003},
        "val_chroma_gains": [2.0],
        "data": {"crop": 64, "batch_size": 2, "val_batch_size": 2, "num_workers": 0,
                 "damage": {"max_bbox": 100}},
        "trainer": {"max_steps": 4, "val_check_interval": 2, "checkpoint_every": 1, "log_every_n_steps": 1},
    }
    p = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory, dataset: Path, tiny_config: Path, runner: CliRunner) -> Path:
    """A run folder trained for 4 steps with `restoria train`."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    res = invoke(runner, "train", "--config", tiny_config, "--data", dataset, "--out", out)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="session")
def mask_folder(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> Path:
    """A generic image+mask folder from the real photos: images/<name>.png|.jpg (gray, sizes differ) and
    masks/<name>.png (0/255, the brighter half of each photo: a mask that is a function of its image)."""
    import cv2

    root = tmp_path_factory.mktemp("maskfolder")
    (root / "images").mkdir()
    (root / "masks").mkdir()
    for i, (name, rgb) in enumerate(sorted(photos.items())):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        gray = cv2.resize(gray, (gray.shape[1] // 4, gray.shape[0] // 4), interpolation=cv2.INTER_AREA)
        mask = ((gray > np.median(gray)) * 255).astype(np.uint8)
        Image.fromarray(gray).save(root / "images" / f"{name}.{'jpg' if i == 0 else 'png'}", quality=95)
        Image.fromarray(mask).save(root / "masks" / f"{name}.png")
    return root


@pytest.fixture(scope="session")
def class_folder(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> Path:
    """clean/ and damaged/ folders of real photos (gray, 96 px high), damaged with competition polygons."""
    import cv2

    from restoria.data.damage import DamageConfig, apply_damage

    root = tmp_path_factory.mktemp("classes")
    for label in ("clean", "damaged"):
        (root / label).mkdir()
    for i, (name, rgb) in enumerate(sorted(photos.items())):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        gray = cv2.resize(gray, (96 * gray.shape[1] // gray.shape[0], 96), interpolation=cv2.INTER_AREA)
        Image.fromarray(gray).save(root / "clean" / f"{name}.png")
        damaged, _ = apply_damage(gray, np.random.default_rng(i), DamageConfig())
        Image.fromarray(damaged).save(root / "damaged" / f"{name}.png")
    return root


def detector_weights(tmp_path: Path, kind: str, bias: float, real_damage: bool = False) -> Path:
    """Small real networks whose answer is fixed by their last bias: a segmenter that calls every
    pixel damaged (bias > 0) and a classifier that is sure of its answer. `real_damage`: the segmenter
    says it was trained on the ageing model, as a real-damage segmenter's file does."""
    torch.manual_seed(0)
    if kind == "segment":
        cfg = {"name": "unet", "encoder": "mobilenet_v2", "in_channels": 1, "decoder_channels": [16, 16, 8, 8, 8]}
        net = create_model(**cfg)
        torch.nn.init.zeros_(net.segmentation_head[0].weight)
        torch.nn.init.constant_(net.segmentation_head[0].bias, bias)
    else:
        cfg = {"name": "resnet_classifier", "backbone": "resnet18", "in_channels": 1}
        net = create_model(**cfg)
        torch.nn.init.zeros_(net.fc.weight)
        torch.nn.init.constant_(net.fc.bias, bias)
    path = tmp_path / f"{kind}{bias:+g}{'-real' if real_damage else ''}.safetensors"
    data = {"size": 96, "damage": {"model": "ageing"}} if real_damage else {"size": 96}
    save_weights(net, path, cfg, config={"data": data})
    return path


def direct_score(true: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> float:
    """The formula of DESIGN.md written out inline, as the organisers' code does it."""
    ssim = structural_similarity(true, pred, channel_axis=-1, data_range=pred.max() - pred.min())
    t, p = true[mask > 0], pred[mask > 0]
    mssim = structural_similarity(t, p, channel_axis=-1, data_range=p.max() - p.min())
    ht = cv2.calcHist([cv2.cvtColor(true, cv2.COLOR_RGB2HSV)], [0], None, [180], [0, 180])
    hp = cv2.calcHist([cv2.cvtColor(pred, cv2.COLOR_RGB2HSV)], [0], None, [180], [0, 180])
    ht, hp = cv2.normalize(ht, ht).flatten(), cv2.normalize(hp, hp).flatten()
    hist = cv2.compareHist(ht, hp, cv2.HISTCMP_CORREL)
    return 0.2 * ssim + 0.4 * mssim + 0.4 * hist
