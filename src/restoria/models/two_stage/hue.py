"""Colour from a hue distribution: per-pixel hue probabilities -> an 8-bit photo whose hue histogram is
their sum.

Why: the competition's colour term is the correlation of whole-photo 180-bin hue histograms, and a
colorizer that regresses to the mean colour puts every pixel at the same one or two hues (a spike a few
bins from the truth's peak correlates at about 0). Drawing each pixel's hue from its predicted
distribution makes the photo's histogram the model's expected histogram instead, however unsure the
model is. The draw uses a smooth noise field, so neighbouring pixels take neighbouring quantiles and
the colour stays in patches rather than speckles.

Two facts make the rendering exact. HSV hue does not change when a gray level is added to all three
channels or when the colour offset is scaled, so `Y + t * d(h)`, with `d(h)` a zero-luma direction of
hue h, has hue h and luma Y for every t > 0. And 8-bit rounding moves hue a lot at low saturation, so
each pixel is rounded (floor or ceiling per channel) to whichever of its 8 neighbours keeps the hue
closest to the one drawn.
"""

from __future__ import annotations

import colorsys
from functools import lru_cache

import cv2
import numpy as np
import torch
from kornia.filters import gaussian_blur2d

BINS = 180  # OpenCV's 8-bit hue: 0..179, 2 degrees each


LUMA = np.array([0.299, 0.587, 0.114])  # BT.601, the competition's gray


def hue_directions(bins: int = BINS) -> np.ndarray:
    """(bins, 3) RGB offsets with zero BT.601 luma and a range (max - min) of 1, one per OpenCV hue."""
    rgb = np.array([colorsys.hsv_to_rgb(k / bins, 1.0, 1.0) for k in range(bins)])
    d = rgb - (rgb @ LUMA)[:, None]
    return d / (d.max(1) - d.min(1))[:, None]


def smooth_uniform(shape: tuple[int, int], sigma: float = 8.0, seed: int = 0) -> torch.Tensor:
    """(1, 1, H, W) noise correlated over about `sigma` pixels (Gaussian-blurred white noise) whose
    values over the photo are exactly uniform on (0, 1) (their ranks), so the photo's draws follow the
    distribution however few independent patches it holds. Made for the whole photo at once, so
    tiles of it agree."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn((1, 1, *shape), generator=g)
    if sigma > 0:
        z = gaussian_blur2d(z, (2 * int(3 * sigma) + 1,) * 2, (sigma, sigma), border_type="replicate")  # any size, down to 1 x 1
    ranks = torch.empty(z.numel(), dtype=torch.float32)
    ranks[z.flatten().argsort()] = torch.arange(z.numel(), dtype=torch.float32)
    return ((ranks + 0.5) / z.numel()).view_as(z)


def noise_for(gray: torch.Tensor) -> torch.Tensor:
    """The default noise field for a batch of (B, 1, H, W) photos: `smooth_uniform` of their size."""
    return smooth_uniform(tuple(gray.shape[-2:])).to(gray).expand(len(gray), -1, -1, -1)


def sample_hues(prob: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF draw: (B, K, H, W) probabilities and (B, 1, H, W) uniforms -> (B, H, W) bin indices."""
    cdf = torch.cumsum(prob, dim=1)
    cdf = cdf / cdf[:, -1:].clamp_min(1e-12)
    return (cdf < u).sum(1).clamp_max(prob.shape[1] - 1)


@lru_cache
def chroma_directions(bins: int = BINS) -> torch.Tensor:
    """(bins, 2) unit Cb/Cr offsets (BT.601, kornia's YCbCr) whose colour has OpenCV hue k: added to
    any gray level, at any positive length, they give exactly that hue."""
    d = torch.from_numpy(hue_directions(bins)).float()
    cbcr = torch.stack([0.564 * d[:, 2], 0.713 * d[:, 0]], 1)  # (b - y) and (r - y) scaled; y = 0
    return cbcr / cbcr.norm(dim=1, keepdim=True)


def opencv_hue(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's 8-bit hue (0..179) of a uint8 (..., 3) RGB array of any leading shape."""
    flat = rgb.reshape(1, -1, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2HSV)[0, :, 0].reshape(rgb.shape[:-1])


def _hue(r: torch.Tensor, g: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """OpenCV's HSV hue formula on its 0..180 scale, unrounded, for channels in 0..255 (gray -> 0)."""
    v = torch.maximum(torch.maximum(r, g), b)
    diff = v - torch.minimum(torch.minimum(r, g), b)
    x = torch.where(v == r, g - b, torch.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    h = torch.where(diff > 0, 30 * x / diff.clamp_min(1e-9), torch.zeros_like(x))
    return torch.where(h < 0, h + BINS, h)


def float_hue(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's hue scale (0..180) of float (..., 3) RGB in 0..255, before any rounding."""
    return _hue(*torch.from_numpy(rgb.astype(np.float64)).unbind(-1)).numpy()


def hue_index(rgb: torch.Tensor) -> torch.Tensor:
    """OpenCV's 8-bit hue bin (0..179) of (B, 3, H, W) RGB in [0, 1], as `cv2.cvtColor(RGB2HSV)` gives
    for the photo saved as 8-bit: the bins the score's histogram counts (gray pixels count at 0).
    OpenCV rounds in fixed point, so about 1% of pixels land one bin over."""
    h = _hue(*(rgb.clamp(0, 1) * 255).round().unbind(1))
    return torch.floor(h + 0.5).long() % BINS
