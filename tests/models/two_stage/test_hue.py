"""Colour from a hue distribution (restoria.models.two_stage.hue): exact OpenCV hues, hue-keeping rounding, draws that
reproduce the distribution, on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import torch
from kornia.color import ycbcr_to_rgb

from restoria.inference.colour import quantize_keep_hue
from restoria.metrics.score import hist_similarity
from restoria.models.two_stage.hue import BINS, chroma_directions, float_hue, hue_index, opencv_hue, sample_hues, smooth_uniform


def tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255


def circular(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.abs(a.astype(np.float64) - b) % BINS
    return np.minimum(d, BINS - d)


def test_hue_index_is_opencvs_hue(photos: dict[str, np.ndarray]) -> None:
    """The training target is the bin the score counts: OpenCV's 8-bit hue, gray pixels at 0 (OpenCV
    rounds in fixed point, so a few pixels sit one bin over)."""
    for name in ("chelsea", "coffee", "astronaut"):
        rgb = photos[name]
        ref = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 0]
        mine = hue_index(tensor(rgb))[0].numpy()
        assert (mine == ref).mean() > 0.98, name
        assert circular(mine, ref).max() <= 1, name
    gray = np.full((4, 4, 3), 77, np.uint8)
    assert (hue_index(tensor(gray)) == 0).all()


def test_chroma_directions_give_their_hue_at_any_gray_and_length() -> None:
    """Y + t * direction(k) in YCbCr is a colour of OpenCV hue k with luma Y, for any Y and t > 0."""
    d = chroma_directions()
    assert torch.allclose(d.norm(dim=1), torch.ones(BINS))
    for y, t in ((0.3, 0.02), (0.5, 0.1), (0.7, 0.05)):  # inside the gamut
        ycc = torch.cat([torch.full((1, 1, BINS, 1), y), 0.5 + t * d.T[None, :, :, None]], 1)
        rgb = ycbcr_to_rgb(ycc)[0].permute(1, 2, 0).numpy()[:, 0] * 255
        assert circular(float_hue(rgb), np.arange(BINS)).max() < 1e-3
        assert np.allclose(rgb @ [0.299, 0.587, 0.114], y * 255, atol=1e-3)


def test_quantize_keep_hue_keeps_a_faint_colours_hue(photos: dict[str, np.ndarray]) -> None:
    """A real photo at 5% of its saturation: plain rounding scatters its hues (and grays many pixels),
    hue-keeping rounding keeps them (the score's hue term against the photo rises), moving no pixel
    by a level or more."""
    rgb = photos["coffee"].astype(np.float64)
    y = (rgb @ [0.299, 0.587, 0.114])[..., None]
    faint = y + 0.05 * (rgb - y)
    plain = np.clip(np.round(faint), 0, 255).astype(np.uint8)
    kept = quantize_keep_hue(faint)
    assert np.abs(kept - faint).max() < 1.0
    target = float_hue(faint)
    colored = faint.max(-1) - faint.min(-1) > 0.5
    assert circular(opencv_hue(kept), target)[colored].mean() < 0.5 * circular(opencv_hue(plain), target)[colored].mean()
    original = photos["coffee"]
    assert hist_similarity(original, kept) > hist_similarity(original, plain) + 0.05


def test_smooth_uniform_is_uniform_correlated_and_reproducible() -> None:
    u = smooth_uniform((256, 256), sigma=8, seed=3)[0, 0].numpy()
    assert np.allclose(np.quantile(u, [0.1, 0.5, 0.9]), [0.1, 0.5, 0.9], atol=0.06)
    assert np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1] > 0.9  # neighbours agree: patches
    assert np.array_equal(u, smooth_uniform((256, 256), sigma=8, seed=3)[0, 0].numpy())
    white = smooth_uniform((256, 256), sigma=0, seed=3)[0, 0].numpy()
    assert abs(np.corrcoef(white[:, :-1].ravel(), white[:, 1:].ravel())[0, 1]) < 0.05


def test_draws_reproduce_the_distribution(photos: dict[str, np.ndarray]) -> None:
    """Draw every pixel's hue from one real photo's hue histogram: the draws' histogram is that photo's
    (the score's hue term near 1), with white or smooth noise."""
    rgb = photos["chelsea"]
    hist = np.bincount(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 0].ravel(), minlength=BINS).astype(np.float32)
    prob = torch.from_numpy(hist / hist.sum()).view(1, BINS, 1, 1).expand(1, BINS, 128, 128)
    for sigma in (0, 4):
        drawn = sample_hues(prob, smooth_uniform((128, 128), sigma=sigma, seed=1))[0].numpy()
        counts = np.bincount(drawn.ravel(), minlength=BINS)
        assert np.corrcoef(counts, hist)[0, 1] > 0.95, sigma
    one_hot = torch.zeros(1, BINS, 4, 4)
    one_hot[:, 42] = 1
    assert (sample_hues(one_hot, torch.rand(1, 1, 4, 4)) == 42).all()


def test_quantize_keep_hue_in_row_blocks_equals_one_pass(photos: dict[str, np.ndarray]) -> None:
    """Memory is bounded by working on blocks of rows; the result does not depend on the block size."""
    rgb = photos["astronaut"].astype(np.float64)
    y = (rgb @ [0.299, 0.587, 0.114])[..., None]
    faint = y + 0.07 * (rgb - y)
    assert np.array_equal(quantize_keep_hue(faint, rows=37), quantize_keep_hue(faint, rows=faint.shape[0]))


def _keep_hue_by_definition(rgb: np.ndarray) -> np.ndarray:
    """Every pixel's 8 floor/ceiling neighbours scored as the definition says: hue error to half a bin
    first, then the distance; the first best wins."""
    corners = np.array([[(i >> c) & 1 for c in range(3)] for i in range(8)])
    part = np.clip(rgb.astype(np.float64), 0, 255)
    target = float_hue(part)
    cand = np.clip(np.floor(part)[..., None, :] + corners, 0, 255).astype(np.uint8)
    hue_err = circular(opencv_hue(cand), target[..., None])
    hue_err[(part.max(-1) - part.min(-1)) <= 0.5] = 0
    rgb_err = np.abs(cand - part[..., None, :]).sum(-1)
    best = np.argmin(np.round(hue_err * 2) * 10 + rgb_err, axis=-1)
    return np.take_along_axis(cand, best[..., None, None], axis=-2)[..., 0, :]


def test_quantize_keep_hue_is_its_definition(photos: dict[str, np.ndarray]) -> None:
    """The fast path (the nearest neighbour where it keeps the hue, the search elsewhere) gives the
    definition's pixels exactly: on a faint photo, on noise, and at the gamut's edges (0 and 255)."""
    rgb = photos["chelsea"].astype(np.float64)
    y = (rgb @ [0.299, 0.587, 0.114])[..., None]
    noise = np.random.default_rng(0).uniform(-0.2, 255.2, (64, 64, 3))
    halves = np.floor(noise) + 0.5  # ties between floor and ceiling
    for case in (y + 0.06 * (rgb - y), noise, halves):
        assert np.array_equal(quantize_keep_hue(case), _keep_hue_by_definition(case))
