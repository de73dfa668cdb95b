"""The competition score, computed exactly as the organisers' code does.

score = 0.2 * SSIM(full RGB) + 0.4 * SSIM(lost-region pixels, as an N x 3 array)
        + 0.4 * correlation of normalised 180-bin hue histograms (RGB -> HSV, OpenCV).

Images are uint8 RGB (H, W, 3); masks are uint8 with >0 = lost. Channel order matters: the hue of a
BGR array differs from the hue of the same photo in RGB.

Where the formula is undefined (NaN: a prediction constant over the lost region, where SSIM divides
0 by 0, or a lost region of fewer than 7 pixels), that term counts 0, so one such image cannot turn a
whole test set's score into NaN.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import torch
from skimage.metrics import structural_similarity
from torchmetrics import Metric

WEIGHTS = {"ssim": 0.2, "masked_ssim": 0.4, "hist": 0.4}


def ssim_score(true: np.ndarray, pred: np.ndarray) -> float:
    """SSIM of the whole RGB image, data range taken from the prediction as in the competition."""
    return float(structural_similarity(true, pred, channel_axis=-1, data_range=pred.max() - pred.min()))


def masked_ssim_score(true: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> float:
    """SSIM of the lost-region pixels only (N x 3 arrays); NaN when the mask is empty."""
    t, p = true[mask > 0], pred[mask > 0]
    if len(t) < 7:
        return float("nan")
    return float(structural_similarity(t, p, channel_axis=-1, data_range=p.max() - p.min()))


def hue_histogram(rgb: np.ndarray, code: int = cv2.COLOR_RGB2HSV) -> np.ndarray:
    """The score's 180-bin hue histogram of a uint8 RGB photo, (180,) float32."""
    return cv2.calcHist([cv2.cvtColor(rgb, code)], [0], None, [180], [0, 180]).reshape(-1)


def histogram_correlation(h_true: np.ndarray, h_pred: np.ndarray) -> float:
    """The score's comparison of two histograms: `cv2.normalize`d, then `compareHist(HISTCMP_CORREL)`."""
    h_true = cv2.normalize(np.float32(h_true).reshape(-1, 1), None).flatten()
    h_pred = cv2.normalize(np.float32(h_pred).reshape(-1, 1), None).flatten()
    return float(cv2.compareHist(h_true, h_pred, cv2.HISTCMP_CORREL))


def hist_similarity(true: np.ndarray, pred: np.ndarray, code: int = cv2.COLOR_RGB2HSV) -> float:
    """Correlation of the normalised hue histograms (180 bins over [0, 180))."""
    return histogram_correlation(hue_histogram(true, code), hue_histogram(pred, code))


def mean_saturation(rgb: np.ndarray) -> float:
    """Mean HSV saturation in [0, 1] (OpenCV's, as the score's hue term uses): how vivid the colours are,
    which the score itself ignores (its hue histogram counts a faint tint like a strong one)."""
    return float(cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 1].mean() / 255.0)


def image_scores(true: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """The three components and the weighted score for one image pair."""
    if true.shape != pred.shape or true.ndim != 3 or true.shape[2] != 3:
        raise ValueError(f"need two RGB images of one shape, got {true.shape} and {pred.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant prediction gives data_range 0
        s = {
            "ssim": ssim_score(true, pred),
            "masked_ssim": masked_ssim_score(true, pred, mask),
            "hist": hist_similarity(true, pred),
        }
    s = {k: 0.0 if np.isnan(v) else v for k, v in s.items()}
    s["score"] = sum(WEIGHTS[k] * s[k] for k in WEIGHTS)
    return s


class CompetitionScore(Metric):
    """The score over a set of images as a torchmetrics Metric, the one place the set's score is formed
    (training, `evaluate`, the benchmarks): the competition averages each term over the test set, then
    weights them. Each process scores its own images and the per-term sums are added across processes
    when it is computed, so the mean covers all of them."""

    full_state_update = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        for key in WEIGHTS:
            self.add_state(key, torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("n", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, true: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> None:
        """Add one image pair (uint8 RGB, mask >0 = lost)."""
        row = image_scores(true, pred, mask)
        for key in WEIGHTS:
            setattr(self, key, getattr(self, key) + row[key])
        self.n += 1

    def compute(self) -> dict[str, float]:
        n = int(self.n)
        out = {key: float(getattr(self, key)) / n if n else float("nan") for key in WEIGHTS}
        out["score"] = sum(WEIGHTS[k] * out[k] for k in WEIGHTS)
        out["n"] = n
        return out
