"""The competition score against a direct computation of its formula on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import direct_score

from restoria.data.damage import apply_damage
from restoria.metrics.score import CompetitionScore, hist_similarity, image_scores


def degraded(img: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A plausible prediction: blurred, colour-shifted, with a noisy gray guess in the lost region."""
    rng = np.random.default_rng(seed)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    _, mask = apply_damage(gray, rng)
    pred = cv2.GaussianBlur(img, (5, 5), 1.5).astype(np.int16) + rng.integers(-20, 20, 3)
    guess = cv2.GaussianBlur(gray, (31, 31), 10).astype(np.int16) + rng.integers(-8, 8, gray.shape)
    pred[mask > 0] = guess[mask > 0, None]
    return np.clip(pred, 0, 255).astype(np.uint8), mask


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_score_matches_formula(photos: dict[str, np.ndarray], name: str) -> None:
    true = photos[name]
    pred, mask = degraded(true, 1)
    s = image_scores(true, pred, mask)
    assert s["score"] == pytest.approx(direct_score(true, pred, mask), abs=1e-9)
    assert 0 < s["ssim"] < 1 and -1 <= s["hist"] <= 1


def test_perfect_prediction_scores_one(photos: dict[str, np.ndarray]) -> None:
    true = photos["rocket"]
    _, mask = degraded(true, 2)
    s = image_scores(true, true.copy(), mask)
    assert s["ssim"] == pytest.approx(1.0) and s["masked_ssim"] == pytest.approx(1.0) and s["hist"] == pytest.approx(1.0)
    assert s["score"] == pytest.approx(1.0)


def test_channel_order_matters(photos: dict[str, np.ndarray]) -> None:
    """The hue of a BGR array is not the hue of the RGB photo: the metric must take RGB."""
    true = photos["coffee"]
    pred, _ = degraded(true, 3)
    rgb = hist_similarity(true, pred)
    as_bgr = hist_similarity(true[..., ::-1].copy(), pred[..., ::-1].copy())
    assert rgb != pytest.approx(as_bgr, abs=1e-3)
    # swapping R and B of the prediction only is a real colour error and must cost score
    assert hist_similarity(true, pred[..., ::-1].copy()) < rgb


def test_undefined_term_counts_zero(photos: dict[str, np.ndarray]) -> None:
    """A lost region left at one gray value makes SSIM divide 0 by 0; that term then scores 0."""
    true = photos["coffee"]
    gray = cv2.cvtColor(true, cv2.COLOR_RGB2GRAY)
    damaged, mask = apply_damage(gray, np.random.default_rng(0))
    pred = np.repeat(damaged[..., None], 3, axis=-1)
    assert np.isnan(direct_score(true, pred, mask))
    s = image_scores(true, pred, mask)
    assert s["masked_ssim"] == 0.0
    assert s["score"] == pytest.approx(0.2 * s["ssim"] + 0.4 * s["hist"])


def test_set_score_is_mean_of_terms(photos: dict[str, np.ndarray]) -> None:
    pairs = [(photos[n], *degraded(photos[n], i)) for i, n in enumerate(["astronaut", "chelsea"])]
    rows = [image_scores(*p) for p in pairs]
    metric = CompetitionScore()
    for p in pairs:
        metric.update(*p)
    agg = metric.compute()
    for k in ("ssim", "masked_ssim", "hist", "score"):
        assert agg[k] == pytest.approx(np.mean([r[k] for r in rows]))
    assert agg["n"] == 2
