"""How super-resolution is judged, per image, the same in validation and in the benchmark.

Fidelity: PSNR and SSIM on the luma Y (BT.601, full range: kornia's YCbCr), the SR literature's
convention because the eye reads detail from luma, with `scale` pixels shaved off each border (where
every method lacks context). PSNR on RGB is given beside it.
Sharpness: the mean Sobel gradient magnitude of the output over the HR photo's. Bicubic is blurry
(ratio < 1); a perceptual (GAN) model trades PSNR for a ratio nearer 1.
"""

from __future__ import annotations

import torch
from kornia.color import rgb_to_ycbcr
from kornia.filters import sobel
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure


def quantise(x: torch.Tensor) -> torch.Tensor:
    """Clamp to [0, 1] and round to 8-bit levels: what a saved output holds."""
    return x.clamp(0, 1).mul(255).round().div(255)


def luma(rgb: torch.Tensor) -> torch.Tensor:
    return rgb_to_ycbcr(rgb)[:, :1]


def shave(x: torch.Tensor, border: int) -> torch.Tensor:
    return x[..., border : x.shape[-2] - border, border : x.shape[-1] - border] if border else x


def sr_scores(pred: torch.Tensor, hr: torch.Tensor, border: int) -> dict[str, torch.Tensor]:
    """Per-image scores (each a (B,) tensor) of predictions against HR, both (B, 3, H, W) in [0, 1]."""
    pred, hr = shave(quantise(pred), border), shave(hr, border)
    py, hy = luma(pred), luma(hr)
    dims = (1, 2, 3)
    return {
        "psnr": peak_signal_noise_ratio(py, hy, data_range=1.0, reduction="none", dim=dims),
        "psnr_rgb": peak_signal_noise_ratio(pred, hr, data_range=1.0, reduction="none", dim=dims),
        "ssim": structural_similarity_index_measure(py, hy, data_range=1.0, reduction="none"),
        "hf_ratio": sobel(py).mean(dims) / sobel(hy).mean(dims).clamp_min(1e-8),
    }
