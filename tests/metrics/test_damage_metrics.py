"""The damage measures against their definitions, on masks where the answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from restoria.imaging import to_gray
from restoria.metrics.damage import luma_scores, tolerant_f1


def line(shape: tuple[int, int], row: int) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    m[row, 10:90] = 255
    return m


def test_a_scratch_found_one_pixel_off_counts_within_tolerance() -> None:
    true, pred = line((100, 100), 50), line((100, 100), 51)
    s = tolerant_f1(pred, true, tolerance=2)
    assert s["f1"] == 1.0 and s["iou"] == 0.0  # IoU calls it a miss, F1 at 2 px a hit
    far = tolerant_f1(line((100, 100), 54), true, tolerance=2)
    assert far["f1"] == 0.0


def test_precision_and_recall_follow_the_formula() -> None:
    true = np.zeros((100, 100), bool)
    true[20:30, 20:30] = True  # 100 px
    pred = np.zeros((100, 100), bool)
    pred[20:30, 20:25] = True  # half of it: all precise, half recalled (ignoring tolerance at 0)
    pred[80:90, 80:90] = True  # 100 false px far away
    s = tolerant_f1(pred, true, tolerance=0)
    assert s["precision"] == pytest.approx(50 / 150)
    assert s["recall"] == pytest.approx(0.5)
    assert s["f1"] == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))
    assert s["iou"] == pytest.approx(50 / 200)
    assert tolerant_f1(np.zeros_like(pred), np.zeros_like(true))["f1"] == 1.0
    assert tolerant_f1(pred, np.zeros_like(true))["f1"] == 0.0


def test_luma_scores_inside_the_mask(photos: dict[str, np.ndarray]) -> None:
    clean = photos["astronaut"]
    damaged = clean.copy()
    mask = np.zeros(clean.shape[:2], np.uint8)
    mask[100:140, 100:200] = 255
    damaged[mask > 0] = 0
    s = luma_scores(damaged, clean, mask)
    g = to_gray(clean).astype(float)[mask > 0]
    assert s["psnr_mask"] == pytest.approx(10 * np.log10(255**2 / (g**2).mean()), abs=0.05)  # to_gray of black is 0
    assert s["psnr"] > s["psnr_mask"] and s["ssim_mask"] < s["ssim"] < 1
    assert luma_scores(clean, clean)["ssim"] == pytest.approx(1.0)


def test_psnr_is_capped_for_a_perfect_result(photos: dict[str, np.ndarray]) -> None:
    clean = photos["coffee"]
    mask = np.zeros(clean.shape[:2], np.uint8)
    mask[5:8, 5:8] = 255
    assert luma_scores(clean, clean, mask)["psnr_mask"] == 60.0
