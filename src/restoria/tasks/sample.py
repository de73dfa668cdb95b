"""Drawing from trained generative models: sample grids and latent interpolations.

Every generative network here (DCGAN generator, cGAN generator, VAE, autoencoder) exposes the same
small interface: `latent_dim`, `num_classes`, `generate(z, labels)` -> images in [0, 1], and the
autoencoders also `encode(x)`. The tasks draw their progress figures with these functions and
`restoria sample` draws its grids with them, so both show the same thing.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torchvision.utils import make_grid

from restoria.data.generative import square
from restoria.data.transforms import resize
from restoria.imaging import to_tensor, to_uint8
from restoria.io import InputError, read_image, write_png


def is_generative(model: nn.Module) -> bool:
    return all(hasattr(model, a) for a in ("generate", "latent_dim", "num_classes"))


def check_samplable(model: nn.Module) -> None:
    """A plain autoencoder's codes follow no known distribution, so random codes decode to noise."""
    if not getattr(model, "variational", True):
        raise ValueError("a plain autoencoder has no prior to sample from: use --interpolate IMAGE IMAGE (or a VAE)")


def grid_labels(model: nn.Module, n: int, label: int | None) -> tuple[torch.Tensor | None, int]:
    """Labels for `n` samples and the grid's row length: one row per class for a conditional model
    (`n` rounded up to a multiple of the class count), all `label` when one is asked for."""
    k = model.num_classes
    if label is not None:
        if not k:
            raise ValueError("--label needs a label-conditional model (cGAN); this one is unconditional")
        if not 0 <= label < k:
            raise ValueError(f"--label must be in 0..{k - 1}, got {label}")
        return torch.full((n,), label, dtype=torch.long), math.ceil(math.sqrt(n))
    if k:
        per_class = math.ceil(n / k)
        return torch.arange(k).repeat_interleave(per_class), per_class
    return None, math.ceil(math.sqrt(n))


@torch.no_grad()
def draw(model: nn.Module, n: int, label: int | None = None, seed: int = 0) -> tuple[torch.Tensor, int]:
    """`n` samples (fewer never; a conditional grid fills whole rows) decoded from z ~ N(0, I), and the row length."""
    check_samplable(model)
    labels, nrow = grid_labels(model, n, label)
    count = len(labels) if labels is not None else n
    device = next(model.parameters()).device
    z = torch.randn(count, model.latent_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    return model.generate(z, None if labels is None else labels.to(device)).float().cpu(), nrow


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: the path between two Gaussian draws keeps their typical norm, where a
    straight line passes through low-probability codes near the origin (White 2016)."""
    cos = (a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-8)
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-4:
        return a + t[:, None] * (b - a)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so)[:, None] * a + (torch.sin(t * omega) / so)[:, None] * b


def read_for(model: nn.Module, path: str | Path) -> torch.Tensor:
    """An image file as the model's input (1, C, S, S) in [0, 1]: central square, resized."""
    image = to_tensor(read_image(path, "L" if model.channels == 1 else "RGB"))
    return resize(square(image), model.image_size, model.image_size)[None]


@torch.no_grad()
def interpolate(
    model: nn.Module, ends: tuple[str, str], steps: int, label: int | None = None, seed: int = 0
) -> torch.Tensor:
    """`steps` images walking from one latent point to another. An end is an image file (encoded: the
    autoencoders only; a straight line between the two codes) or "random" (a N(0, I) draw; slerp)."""
    if steps < 2:
        raise ValueError(f"--steps must be at least 2, got {steps}")
    g = torch.Generator().manual_seed(seed)
    points = []
    for end in ends:
        if end == "random":
            check_samplable(model)
            points.append(torch.randn(model.latent_dim, generator=g))
        elif not hasattr(model, "encode"):
            raise ValueError(f"{end}: this model has no encoder (a GAN); interpolate between 'random' points")
        else:
            points.append(model.encode(read_for(model, end)).cpu()[0])
    t = torch.linspace(0, 1, steps)
    if "random" in ends:
        z = slerp(points[0], points[1], t)
    else:
        z = points[0] + t[:, None] * (points[1] - points[0])
    if model.num_classes and label is None:  # a conditional model walks within one class
        label = int(torch.randint(model.num_classes, (), generator=g))
    labels = grid_labels(model, steps, label)[0] if label is not None else None
    device = next(model.parameters()).device
    return model.generate(z.to(device), None if labels is None else labels.to(device)).float().cpu()


def grid_image(images: torch.Tensor, nrow: int, padding: int = 2) -> torch.Tensor:
    """(N, C, S, S) -> one (C, H, W) grid, `nrow` images per row, white gaps of `padding` pixels."""
    return make_grid(images.clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)


def save_grid(images: torch.Tensor, nrow: int, path: str | Path, padding: int = 2) -> Path:
    """Write a grid PNG (gray for one channel, else RGB); returns its path."""
    grid = grid_image(images, nrow, padding)
    if images.shape[1] == 1:
        grid = grid[:1]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_png(path, to_uint8(grid))
    return path


def load_generative(path: str | Path) -> nn.Module:
    """A trained generator / VAE / autoencoder from its weights file; anything else is an InputError."""
    from restoria.weights import load_model

    model = load_model(path)
    if not is_generative(model):
        name = model.meta.get("model", {}).get("name", "?")  # type: ignore[union-attr]
        raise InputError(path, f"not a generator or autoencoder (its model is {name!r})")
    return model
