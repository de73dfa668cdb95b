"""Drawing from generative weights: grid sizes, interpolation ends, the models that cannot be sampled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import invoke
from PIL import Image

from restoria.models import create_model
from restoria.tasks.sample import draw, interpolate, load_generative, slerp
from restoria.weights import save_weights


def saved(tmp_path: Path, name: str, **cfg: object) -> Path:
    torch.manual_seed(0)
    path = tmp_path / f"{name}.safetensors"
    save_weights(create_model(name, **cfg), path, {"name": name, **cfg})
    return path


def test_sample_writes_a_grid_of_the_right_size_from_a_fresh_generator(tmp_path: Path, runner: object) -> None:
    w = saved(tmp_path, "dcgan_generator", latent_dim=8, image_size=16, base_channels=8, channels=3)
    res = invoke(runner, "sample", "--weights", w, "--out", tmp_path / "g.png", "--n", 10)
    assert res.exit_code == 0, res.output
    grid = np.asarray(Image.open(tmp_path / "g.png"))
    assert grid.shape == (3 * 18 + 2, 4 * 18 + 2, 3)  # 10 images: 4 per row, 3 rows
    assert grid[:2].min() == 255  # the padding is white, the samples are not
    assert grid[2:18, 2:18].std() > 0


def test_draw_is_seeded_and_in_range(tmp_path: Path) -> None:
    model = load_generative(saved(tmp_path, "dcgan_generator", latent_dim=8, image_size=8, base_channels=8))
    a, nrow = draw(model, 9, seed=3)
    b, _ = draw(model, 9, seed=3)
    torch.testing.assert_close(a, b)
    assert nrow == 3 and a.shape == (9, 1, 8, 8) and 0 <= a.min() and a.max() <= 1
    assert not torch.equal(a, draw(model, 9, seed=4)[0])


def test_slerp_keeps_the_ends_and_the_norm() -> None:
    a, b = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    path = slerp(a, b, torch.linspace(0, 1, 5))
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    torch.testing.assert_close(path.norm(dim=1), torch.full((5,), 3.0))


def test_interpolation_between_encoded_images_starts_and_ends_at_their_decodings(tmp_path: Path, photo_dir: Path) -> None:
    model = load_generative(saved(tmp_path, "vae", image_size=16, latent_dim=4, base_channels=8, channels=3))
    a, b = sorted(photo_dir.iterdir())[:2]
    walk = interpolate(model, (str(a), str(b)), 5)
    from restoria.tasks.sample import read_for

    with torch.no_grad():
        ends = model.generate(torch.cat([model.encode(read_for(model, a)), model.encode(read_for(model, b))]))
    torch.testing.assert_close(walk[[0, -1]], ends)


def test_what_cannot_be_sampled_is_named(tmp_path: Path, runner: object) -> None:
    ae = saved(tmp_path, "autoencoder", image_size=8, latent_dim=4, base_channels=8)
    res = invoke(runner, "sample", "--weights", ae, "--out", tmp_path / "x.png")
    assert res.exit_code == 2 and "no prior" in res.stderr
    gan = saved(tmp_path, "dcgan_generator", latent_dim=8, image_size=8, base_channels=8)
    res = invoke(runner, "sample", "--weights", gan, "--out", tmp_path / "x.png", "--interpolate", "a.png", "b.png")
    assert res.exit_code == 2 and "no encoder" in res.stderr
    disc = saved(tmp_path, "patchgan", base_channels=4)
    res = invoke(runner, "sample", "--weights", disc, "--out", tmp_path / "x.png")
    assert res.exit_code == 2 and f"{disc}: not a generator" in res.stderr
    with pytest.raises(ValueError, match="steps"):
        interpolate(load_generative(gan), ("random", "random"), 1)
