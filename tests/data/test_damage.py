"""Damage synthesis: the competition's statistics, and reproducibility."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restoria.data.damage import DamageConfig, apply_damage, random_polygon


def test_polygon_statistics() -> None:
    rng = np.random.default_rng(0)
    cfg = DamageConfig()
    counts = set()
    for _ in range(300):
        poly = random_polygon(rng, (512, 512), cfg)
        counts.add(len(poly))
        assert 3 <= len(poly) <= 20
        x, y, w, h = cv2.boundingRect(poly)
        assert w >= 50 and h >= 50
        assert x >= 0 and y >= 0 and x + w <= 512 and y + h <= 512
        m = np.zeros((512, 512), np.uint8)
        cv2.fillPoly(m, [poly], 1)
        assert m.sum() > 625
    assert min(counts) <= 4 and max(counts) >= 19  # the whole 3..20 range is drawn


def test_lost_region_is_one_gray_value(photos: dict[str, np.ndarray]) -> None:
    gray = cv2.cvtColor(photos["astronaut"], cv2.COLOR_RGB2GRAY)
    values = set()
    for seed in range(40):
        damaged, mask = apply_damage(gray, np.random.default_rng(seed))
        lost = damaged[mask > 0]
        assert np.unique(lost).size == 1
        values.add(int(lost[0]))
        np.testing.assert_array_equal(damaged[mask == 0], gray[mask == 0])
        assert set(np.unique(mask)) <= {0, 255}
    assert len(values) > 20 and min(values) < 64 and max(values) > 192


def test_reproducible_with_seed(photos: dict[str, np.ndarray]) -> None:
    gray = cv2.cvtColor(photos["coffee"], cv2.COLOR_RGB2GRAY)
    a = apply_damage(gray, np.random.default_rng(7))
    b = apply_damage(gray, np.random.default_rng(7))
    c = apply_damage(gray, np.random.default_rng(8))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_sizes_scale_with_the_image() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        x, y, w, h = cv2.boundingRect(random_polygon(rng, (256, 256), DamageConfig()))
        assert w >= 25 and h >= 25


@pytest.mark.parametrize("kind", ["stroke", "box", "scratch"])
def test_other_kinds(kind: str) -> None:
    gray = np.full((256, 256), 128, np.uint8)
    cfg = DamageConfig(kinds={kind: 1.0}, min_regions=2, max_regions=3)
    damaged, mask = apply_damage(gray, np.random.default_rng(0), cfg)
    assert (mask > 0).any() and np.unique(damaged[mask > 0]).size == 1


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown damage kind"):
        apply_damage(np.zeros((64, 64), np.uint8), np.random.default_rng(0), DamageConfig(kinds={"blob": 1.0}))
