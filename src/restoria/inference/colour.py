"""Colour rendering: the colorizer's float RGB -> an 8-bit photo that keeps each pixel's drawn hue.

Plain rounding of a faint colour moves its hue by tens of bins or erases it; the score counts hues, so
the rendering rounds each pixel towards the neighbour that keeps its hue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from restoria.inference.net import RestorerNet
from restoria.models.two_stage.hue import BINS, float_hue, noise_for, opencv_hue


def quantize_keep_hue(rgb: np.ndarray, rows: int = 256) -> np.ndarray:
    """Float (H, W, 3) RGB in 0..255 -> uint8, each pixel rounded (floor or ceiling per channel) to the
    neighbour whose 8-bit hue is closest to its own, then the nearest. Plain rounding of a faint colour
    moves its hue by up to tens of bins, or erases it (gray reads as hue 0); this keeps it. A pixel moves
    by less than one level per channel. Works on `rows` rows at a time: the 8 candidates per pixel
    would otherwise take gigabytes on a large photo."""
    corners = np.array([[(i >> c) & 1 for c in range(3)] for i in range(8)], dtype=np.float64)
    out = np.empty(rgb.shape, np.uint8)
    for y in range(0, rgb.shape[0], rows):
        part = np.clip(rgb[y : y + rows].astype(np.float64), 0, 255)
        target = float_hue(part)
        colored = (part.max(-1) - part.min(-1)) > 0.5
        cand = np.clip(np.floor(part)[..., None, :] + corners, 0, 255).astype(np.uint8)  # (rows, W, 8, 3)
        diff = np.abs(opencv_hue(cand) - target[..., None])
        hue_err = np.where(colored[..., None], np.minimum(diff, BINS - diff), 0.0)
        rgb_err = np.abs(cand - part[..., None, :]).sum(-1)
        best = np.argmin(np.round(hue_err * 2) * 10 + rgb_err, axis=-1)
        out[y : y + rows] = np.take_along_axis(cand, best[..., None, None], axis=2)[..., 0, :]
    return out


def to_uint8_keep_hue(rgb: torch.Tensor) -> np.ndarray:
    """(3, H, W) RGB in [0, 1] -> (H, W, 3) uint8 by `quantize_keep_hue`."""
    return quantize_keep_hue(rgb.detach().float().permute(1, 2, 0).cpu().numpy() * 255)


Run = Callable[[Callable[[torch.Tensor], torch.Tensor], torch.Tensor], torch.Tensor]


@torch.inference_mode()
def colorize(nets: Sequence[RestorerNet], gray: torch.Tensor, run: Run, strength: float = 1.0) -> np.ndarray:
    """The colorize stage: restored gray (1, 1, H, W) -> uint8 RGB (H, W, 3), averaged over the ensemble.

    `run(fn, x)` applies a network to the whole photo (tiled). A hue-drawing colorizer gets ONE noise
    field for the whole photo, so its tiles agree; `strength` scales each model's calibrated chroma gain."""
    outs = []
    for net in nets:
        if net.samples_hue:
            color = run(lambda x, net=net: net.color(x[:, :1], x[:, 1:]), torch.cat([gray, noise_for(gray)], 1))
        else:
            color = run(net.color, gray)
        outs.append(net.to_rgb(gray, color, net.chroma_gain * strength))
    return to_uint8_keep_hue(torch.stack(outs).mean(0)[0])
