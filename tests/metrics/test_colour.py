"""The colour measures against their formulas and against what a person sees."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from restoria.metrics.colour import chroma_bleed, colourfulness, frechet_distance


def test_colourfulness_by_hand() -> None:
    """Half pure red, half pure green: rg = +255 / -255 (std 255, mean 0), yb = 127.5 both (std 0,
    mean 127.5): M = 255 + 0.3 * 127.5."""
    img = np.zeros((2, 2, 3), np.uint8)
    img[0, :, 0] = 255
    img[1, :, 1] = 255
    assert colourfulness(img) == pytest.approx(255 + 0.3 * 127.5)


def test_gray_has_no_colourfulness_and_washed_out_colour_has_less() -> None:
    rgb = skimage.data.astronaut()
    gray = np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, -1)
    washed = (0.4 * rgb + 0.6 * gray).astype(np.uint8)
    assert colourfulness(gray) == pytest.approx(0, abs=1e-9)
    assert 0.3 * colourfulness(rgb) < colourfulness(washed) < 0.5 * colourfulness(rgb)


def test_chroma_bleed_sees_speckle_on_a_flat_area_and_not_colour_at_an_edge() -> None:
    rng = np.random.default_rng(0)
    edge = np.zeros((64, 64, 3), np.uint8)
    edge[:, :32] = (220, 80, 80)
    edge[:, 32:] = (20, 80, 20)  # a real colour edge: the lightness changes with the colour
    speckle = np.full((64, 64, 3), 128, np.uint8)
    speckle[..., 0] = np.clip(128 + rng.normal(0, 20, (64, 64)), 0, 255)  # red wanders, lightness barely
    speckle[..., 2] = np.clip(256 - speckle[..., 0].astype(int), 0, 255)
    assert chroma_bleed(edge) == pytest.approx(0, abs=1e-6)
    assert chroma_bleed(speckle) > 5


def test_frechet_distance_of_gaussians_matches_the_closed_form() -> None:
    """Two isotropic Gaussians in 4-D, N(0, I) and N(m, 4I): d = |m|^2 + tr(I + 4I - 2 * 2I) = |m|^2 + 4."""
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (20000, 4))
    b = rng.normal(0, 2, (20000, 4)) + np.array([1.0, 2.0, 0.0, 0.0])
    assert frechet_distance(a, b) == pytest.approx(5 + 4, rel=0.05)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
