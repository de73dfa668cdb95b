"""Colour rendering: the colorizer's chroma read at the scale it learnt, over the photo's own luma, as an
8-bit photo that keeps each pixel's hue.

A large scan is colorized from a copy of about COLOUR_SIZE x COLOUR_SIZE pixels and its chroma is scaled
up under the full-resolution luma (DeOldify's "render factor"): the colorizer learnt what things are
from photos of that size, and at 4000 px a face fills its whole view and reads as texture. Colour
varies slowly, so nothing is lost that a person sees, and the cost stops growing with the photo.

Plain rounding of a faint colour moves its hue by tens of bins or erases it; the score counts hues, so
the rendering rounds each pixel towards the neighbour that keeps its hue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import math

import numpy as np
import torch
import torch.nn.functional as F

from restoria.inference.net import RestorerNet
from restoria.models.two_stage.hue import BINS, float_hue, noise_for, opencv_hue


CORNERS = np.array([[(i >> c) & 1 for c in range(3)] for i in range(8)], dtype=np.uint8)  # (8, 3): floor or ceiling per channel


def quantize_keep_hue(rgb: np.ndarray, rows: int = 256) -> np.ndarray:
    """Float (H, W, 3) RGB in 0..255 -> uint8, each pixel rounded (floor or ceiling per channel) to the
    neighbour whose 8-bit hue is closest to its own, then the nearest. Plain rounding of a faint colour
    moves its hue by up to tens of bins, or erases it (gray reads as hue 0); this keeps it. A pixel moves
    by less than one level per channel. Works on `rows` rows at a time: the 8 candidates per pixel
    would otherwise take gigabytes on a large photo."""
    out = np.empty(rgb.shape, np.uint8)
    for y in range(0, rgb.shape[0], rows):
        part = np.clip(rgb[y : y + rows].astype(np.float64), 0, 255)
        target = float_hue(part)
        # the nearest neighbour (ties to the floor, as the search's first candidate) is the answer
        # wherever it already keeps the hue; the search runs on the rest (about half of a colorized photo)
        block = np.ceil(part - 0.5).astype(np.uint8)
        search = ((part.max(-1) - part.min(-1)) > 0.5) & (np.round(_hue_error(block, target) * 2) > 0)
        if search.any():
            block[search] = _nearest_keeping_hue(part[search], target[search])
        out[y : y + rows] = block
    return out


def _hue_error(rgb: np.ndarray, target: np.ndarray) -> np.ndarray:
    """How far (in bins, around the circle) the 8-bit hue of uint8 `rgb` is from `target`."""
    diff = np.abs(opencv_hue(rgb) - target)
    return np.minimum(diff, BINS - diff)


def _nearest_keeping_hue(part: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(N, 3) coloured pixels -> (N, 3) uint8: of the 8 floor/ceiling neighbours, the one whose hue is
    closest to `target` (to half a bin), then the nearest."""
    floor = np.floor(part)
    cand = np.minimum(floor.astype(np.uint16)[:, None, :] + CORNERS, 255).astype(np.uint8)  # (N, 8, 3)
    # each candidate's distance, the sum over channels of frac (floor) or 1 - frac (ceiling), as one
    # matmul: the (N, 8, 3) float difference took most of the time
    frac = part - floor
    rgb_err = frac.sum(-1)[:, None] + (1 - 2 * frac) @ CORNERS.T.astype(np.float64)
    best = np.argmin(np.round(_hue_error(cand, target[:, None]) * 2) * 10 + rgb_err, axis=-1)
    return cand[np.arange(len(cand)), best]


def to_uint8_keep_hue(rgb: torch.Tensor) -> np.ndarray:
    """(3, H, W) RGB in [0, 1] -> (H, W, 3) uint8 by `quantize_keep_hue`."""
    return quantize_keep_hue(rgb.detach().float().permute(1, 2, 0).cpu().numpy() * 255)


COLOUR_SIZE = 512  # the training photos' side: a larger photo's colour is read from this many pixels squared


def colour_view(gray: torch.Tensor, size: int | None = COLOUR_SIZE) -> torch.Tensor:
    """The gray (B, 1, H, W) the colorizer reads: the photo itself, or for a photo of more than `size`
    x `size` pixels an antialiased copy of that area with the same aspect (None: always the photo)."""
    h, w = gray.shape[-2:]
    if size is None or h * w <= size * size:
        return gray
    scale = math.sqrt(size * size / (h * w))
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    return F.interpolate(gray, size=shape, mode="bilinear", antialias=True, align_corners=False)


Run = Callable[[Callable[[torch.Tensor], torch.Tensor], torch.Tensor], torch.Tensor]


@torch.inference_mode()
def colorize(
    nets: Sequence[RestorerNet], gray: torch.Tensor, run: Run, strength: float = 1.0, size: int | None = COLOUR_SIZE
) -> np.ndarray:
    """The colorize stage: restored gray (1, 1, H, W) -> uint8 RGB (H, W, 3), averaged over the ensemble.

    A chroma colorizer reads `colour_view(gray, size)` and its chroma is scaled up bilinearly under the
    full-resolution gray; an RGB one (which also redraws the luma) reads the photo itself. `run(fn, x)`
    applies a network to a whole image (tiled). A hue-drawing colorizer gets ONE noise field for the
    whole image, so its tiles agree; `strength` scales each model's calibrated chroma gain."""
    outs = []
    for net in nets:
        x = colour_view(gray, size) if net.color_space == "ycbcr" else gray
        if net.samples_hue:
            color = run(lambda t, net=net: net.color(t[:, :1], t[:, 1:]), torch.cat([x, noise_for(x)], 1))
        else:
            color = run(net.color, x)
        if color.shape[-2:] != gray.shape[-2:]:
            color = F.interpolate(color, size=gray.shape[-2:], mode="bilinear", align_corners=False)
        outs.append(net.to_rgb(gray, color, net.chroma_gain * strength))
    return to_uint8_keep_hue(torch.stack(outs).mean(0)[0])
