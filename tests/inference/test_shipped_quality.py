"""The shipped weights on real photos they never saw, with the competition's own damage: regression
guards with a margin, so a move or a refactor that breaks the models cannot pass."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from restoria.data.ageing import STRUCTURAL
from restoria.data.damage import apply_damage
from restoria.imaging import to_gray, to_tensor
from restoria.inference.detectors import Segmenter
from restoria.inference.restorer import Restorer
from restoria.metrics.score import CompetitionScore
from restoria.weights import default_weights

NAMES = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower")
CROP = 256
# the real-damage segmenter beside the competition's (measured 2026-12-05 with segment_real.safetensors,
# threshold 0.85, grown 2 px): F1 0.45 and +1.34 dB inside the damage on six aged crops; clean photos at
# their own size 0.74% found on average, 2.31% at worst (grace_hopper's shoulders)
F1_MIN, GAIN_MIN = 0.35, 0.8
CLEAN_MEAN, CLEAN_WORST = 0.01, 0.03


@pytest.fixture(scope="module")
def damaged(photos: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(true RGB, damaged gray, true mask) for a centre crop of each photo, one polygon each."""
    out = []
    for i, name in enumerate(NAMES):
        rgb = photos[name]
        y, x = (rgb.shape[0] - CROP) // 2, (rgb.shape[1] - CROP) // 2
        rgb = np.ascontiguousarray(rgb[y : y + CROP, x : x + CROP])
        gray, mask = apply_damage(to_gray(rgb), np.random.default_rng(i))
        out.append((rgb, gray, mask))
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_shipped_segmenter_finds_competition_damage(damaged) -> None:
    seg = Segmenter(default_weights("segment.safetensors"))
    found = [seg(to_tensor(gray)[None])[0, 0].numpy() > 0.5 for _, gray, _ in damaged]
    ious = [iou(f, mask > 0) for f, (_, _, mask) in zip(found, damaged)]
    assert np.mean(ious) > 0.75 and min(ious) > 0.6, ious  # measured: mean 0.83, worst 0.72


def test_shipped_restorer_beats_the_input_and_telea(damaged) -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    restorer = Restorer()
    scores = {k: CompetitionScore() for k in ("input", "telea", "restoria")}
    for rgb, gray, mask in damaged:
        telea = cv2.inpaint(gray, (mask > 0).astype(np.uint8), 3, cv2.INPAINT_TELEA)
        scores["input"].update(rgb, np.repeat(gray[..., None], 3, -1), mask)
        scores["telea"].update(rgb, np.repeat(telea[..., None], 3, -1), mask)
        scores["restoria"].update(rgb, restorer(gray).restored, mask)
    score = {k: v.compute()["score"] for k, v in scores.items()}
    # measured: input 0.217, Telea on the true mask 0.356, restoria on the damage it finds itself 0.392
    assert score["restoria"] > score["telea"] + 0.02 and score["restoria"] > score["input"] + 0.12, score


def _found_area(photos: dict[str, np.ndarray], aged: bool) -> dict[str, float]:
    """The share of pixels the shipped detect stage marks on each bundled photo, clean or with global
    ageing only (grain, fading, blur, JPEG, ...: restoria.data.ageing, which are not damage to fill)."""
    from restoria.data.ageing import AgeingConfig, age_photo

    restorer = Restorer()
    area = {}
    for i, (name, rgb) in enumerate(sorted(photos.items())):
        image = cv2.resize(rgb, (512, 512), interpolation=cv2.INTER_AREA)
        if aged:
            image = age_photo(image, np.random.default_rng([20_001, i]), AgeingConfig(damage={}, min_global=2)).image
        found, _ = restorer.detect(to_gray(image) if image.ndim == 3 else image)
        area[name] = float((found > 0).mean())
    return area


def test_shipped_detect_leaves_clean_photos_alone(photos: dict[str, np.ndarray]) -> None:
    area = _found_area(photos, aged=False)
    assert max(area.values()) < 0.01, area


def test_shipped_detect_leaves_clean_photos_at_their_own_size_nearly_alone(photos: dict[str, np.ndarray]) -> None:
    """At its own size (as `restore` sees it; python benchmarks/clean_photos.py has the figure): crisp
    edges, lattices and dark cloth are not damage."""
    restorer = Restorer(enhancer=None)
    area = {name: float((restorer.detect(to_gray(rgb))[0] > 0).mean()) for name, rgb in photos.items()}
    assert np.mean(list(area.values())) < CLEAN_MEAN and max(area.values()) < CLEAN_WORST, area


@pytest.mark.xfail(strict=True, reason="known: the shipped detectors take parts of faded, halftoned or JPEG-blocked photos for damage (issue 19)")
def test_shipped_detect_leaves_merely_aged_photos_alone(photos: dict[str, np.ndarray]) -> None:
    area = _found_area(photos, aged=True)
    assert max(area.values()) < 0.01, area


def test_shipped_enhancer_undoes_fading_and_leaves_clean_photos_nearly_alone(photos: dict[str, np.ndarray]) -> None:
    """Fading (contrast squeezed toward a light gray, as restoria.data.ageing draws it) is mostly undone;
    the bundled photos, which are not faded, come out within 40 dB of themselves."""
    from restoria.inference.enhancer import PhotoEnhancer
    from restoria.metrics.damage import luma_scores

    enhancer = PhotoEnhancer(default_weights("enhance.safetensors"))
    gains, clean_psnr = [], {}
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        gray = to_gray(cv2.resize(photos[name], (512, 512), interpolation=cv2.INTER_AREA))
        faded = np.clip(gray * 0.55 + 0.45 * 170, 0, 255).round().astype(np.uint8)
        gains.append(luma_scores(enhancer(faded), gray)["psnr"] - luma_scores(faded, gray)["psnr"])
        clean_psnr[name] = luma_scores(enhancer(gray), gray)["psnr"]
    assert np.mean(gains) > 3 and min(gains) > 0, gains  # measured: +5.4 to +9.6 dB
    assert min(clean_psnr.values()) > 40, clean_psnr  # measured: 43.3 dB (astronaut), the others untouched


@pytest.fixture(scope="module")
def aged(photos: dict[str, np.ndarray]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(clean gray, aged gray, true mask) for a 512 px centre crop of each photo, aged with 1-3 kinds of
    real damage and global ageing, at seeds no training draws."""
    from restoria.data.ageing import AgeingConfig, age_photo

    out = []
    for i, name in enumerate(NAMES):
        rgb = photos[name]
        side = min(rgb.shape[:2])
        y, x = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
        gray = to_gray(cv2.resize(rgb[y : y + side, x : x + side], (512, 512), interpolation=cv2.INTER_AREA))
        a = age_photo(gray, np.random.default_rng([30_000, i]), AgeingConfig(damage={k: 1.0 for k in STRUCTURAL if k != "polygon"}))
        out.append((gray, a.image, a.mask))
    return out


def test_shipped_detect_finds_real_damage_and_restore_repairs_it(aged) -> None:
    """The real-damage segmenter beside the competition's: scratches, cracks, dust, folds, tears ... found
    (F1 at 2 px) and, filled, closer to the clean photo inside the damage than the aged input."""
    from restoria.metrics.damage import luma_scores, tolerant_f1

    restorer = Restorer()
    assert restorer.real_segmenter is not None
    f1, gain = [], []
    for clean, image, mask in aged:
        found, _ = restorer.detect(image)
        f1.append(tolerant_f1(found, mask)["f1"])
        restored = to_gray(restorer(image).restored)
        gain.append(luma_scores(restored, clean, mask)["psnr"] - luma_scores(image, clean, mask)["psnr"])
    assert np.mean(f1) > F1_MIN and np.mean(gain) > GAIN_MIN, (f1, gain)
