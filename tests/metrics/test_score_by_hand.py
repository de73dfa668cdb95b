"""The competition score against values worked out by hand: SSIM from Wang et al.'s formula on one
7x7 window, a hue-histogram correlation in closed form, and the documented NaN / empty-hole rule."""

from __future__ import annotations

import numpy as np
import pytest

from restoria.metrics.score import CompetitionScore, hist_similarity, image_scores


def ssim_one_window(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """SSIM of two equal-size signals seen as ONE window (sample covariance, K1 = 0.01, K2 = 0.03)."""
    x, y = x.astype(np.float64).ravel(), y.astype(np.float64).ravel()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(ddof=1), y.var(ddof=1)
    cxy = ((x - mx) * (y - my)).sum() / (len(x) - 1)
    return (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def test_seven_by_seven_case_by_hand() -> None:
    """A 7x7 photo is one SSIM window; a mask of 7 pixels is one window of the N x 3 array; gray
    photos have every pixel in hue bin 0, so their histograms correlate exactly (1.0)."""
    rng = np.random.default_rng(0)
    true = np.repeat(rng.integers(0, 256, (7, 7, 1)), 3, -1).astype(np.uint8)
    pred = np.clip(true.astype(int) + rng.integers(-40, 41, (7, 7, 1)), 0, 255).astype(np.uint8)
    mask = np.zeros((7, 7), np.uint8)
    mask[3] = 255  # one row: 7 lost pixels
    rng_pred = float(pred.max()) - float(pred.min())
    ssim = np.mean([ssim_one_window(true[..., c], pred[..., c], rng_pred) for c in range(3)])
    t, p = true[3], pred[3]
    masked = np.mean([ssim_one_window(t[:, c], p[:, c], float(p.max()) - float(p.min())) for c in range(3)])
    got = image_scores(true, pred, mask)
    assert got["ssim"] == pytest.approx(ssim, abs=1e-9)
    assert got["masked_ssim"] == pytest.approx(masked, abs=1e-9)
    assert got["hist"] == pytest.approx(1.0)
    assert got["score"] == pytest.approx(0.2 * ssim + 0.4 * masked + 0.4, abs=1e-9)


def test_two_pure_hues_correlate_at_minus_one_over_179() -> None:
    """Pure green against pure blue: two one-bin histograms over 180 bins correlate at -1/179."""
    green, blue = np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16, 3), np.uint8)
    green[..., 1], blue[..., 2] = 255, 255
    assert hist_similarity(green, blue) == pytest.approx(-1 / 179)


def test_a_constant_prediction_counts_zero_ssim() -> None:
    """A constant prediction has data range 0, so both SSIM terms are 0/0 (NaN) and count 0 by the
    documented rule. Its gray pixels all fall in hue bin 0; the truth is half red (bin 0), half green
    (bin 60): with a = e0 + e60 and b = e0 over 180 bins, corr = (1 - 2/180) / sqrt((2 - 4/180)(1 - 1/180))."""
    true = np.zeros((16, 16, 3), np.uint8)
    true[:8, :, 0] = 255
    true[8:, :, 1] = 255
    pred = np.full((16, 16, 3), 100, np.uint8)
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 255
    hist = (1 - 2 / 180) / np.sqrt((2 - 4 / 180) * (1 - 1 / 180))
    got = image_scores(true, pred, mask)
    assert got["ssim"] == 0.0 and got["masked_ssim"] == 0.0
    assert got["hist"] == pytest.approx(hist)
    assert got["score"] == pytest.approx(0.4 * hist)


def test_an_empty_or_tiny_hole_counts_zero() -> None:
    """Under 7 lost pixels the masked SSIM is undefined (SSIM's 7-wide window) and counts 0."""
    rng = np.random.default_rng(1)
    true = rng.integers(0, 256, (32, 32, 3)).astype(np.uint8)
    for n in (0, 6):
        mask = np.zeros((32, 32), np.uint8)
        mask.flat[:n] = 255
        got = image_scores(true, true, mask)
        assert got["masked_ssim"] == 0.0 and got["ssim"] == pytest.approx(1.0) and got["hist"] == pytest.approx(1.0)
        assert got["score"] == pytest.approx(0.6)


def test_the_metric_is_the_mean_of_each_term() -> None:
    """Two pairs: a perfect one (every term 1) and pure green against pure blue with no hole (masked
    SSIM 0 by the empty-hole rule, hue term -1/179 as worked out above): each term is the mean over
    the pairs, and the score weighs those means."""
    green, blue = np.zeros((16, 16, 3), np.uint8), np.zeros((16, 16, 3), np.uint8)
    green[..., 1], blue[..., 2] = 255, 255
    rng = np.random.default_rng(2)
    photo = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    hole = np.zeros((16, 16), np.uint8)
    hole[4:8, 4:8] = 255
    metric = CompetitionScore()
    metric.update(photo, photo, hole)
    metric.update(green, blue, np.zeros((16, 16), np.uint8))
    second = image_scores(green, blue, np.zeros((16, 16), np.uint8))
    got = metric.compute()
    assert got["n"] == 2 and second["masked_ssim"] == 0.0
    assert got["hist"] == pytest.approx((1 - 1 / 179) / 2)
    assert got["masked_ssim"] == pytest.approx(0.5)
    assert got["ssim"] == pytest.approx((1 + second["ssim"]) / 2)
    assert got["score"] == pytest.approx(0.2 * got["ssim"] + 0.4 * 0.5 + 0.4 * got["hist"])
