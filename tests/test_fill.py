"""Classical fill of a known hole: only the hole changes, and on a real photo it is nearer the truth
than the flat value the damage left."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restoria.data.damage import apply_damage
from restoria.fill import METHODS, classical_fill, classical_fill_image, xphoto_fill
from restoria.imaging import to_gray, to_tensor


@pytest.mark.parametrize("method", sorted(METHODS))
def test_fill_changes_only_the_hole_and_beats_the_flat_value(photos: dict[str, np.ndarray], method: str) -> None:
    gray = to_gray(photos["astronaut"])[:256, :256]
    damaged, mask = apply_damage(gray, np.random.default_rng(3))
    hole = mask > 0
    filled = classical_fill_image(damaged, mask, method)
    np.testing.assert_array_equal(filled[~hole], damaged[~hole])
    err = lambda img: np.abs(img[hole].astype(int) - gray[hole]).mean()  # noqa: E731
    assert err(filled) < 0.7 * err(damaged)


def test_tensor_fill_is_the_image_fill_per_photo(photos: dict[str, np.ndarray]) -> None:
    grays, masks = [], []
    for seed, name in enumerate(("astronaut", "coffee")):
        d, m = apply_damage(to_gray(photos[name])[:128, :160], np.random.default_rng(seed))
        grays.append(d)
        masks.append(m)
    out = classical_fill(torch.stack([to_tensor(g) for g in grays]), torch.stack([to_tensor(m) for m in masks]))
    for i, (g, m) in enumerate(zip(grays, masks)):
        np.testing.assert_array_equal((out[i, 0] * 255).round().byte().numpy(), classical_fill_image(g, m))


def test_no_hole_and_unknown_method() -> None:
    gray = np.full((32, 32), 90, np.uint8)
    np.testing.assert_array_equal(classical_fill_image(gray, np.zeros_like(gray)), gray)
    with pytest.raises(ValueError, match="fill method must be one of"):
        classical_fill_image(gray, np.ones_like(gray), "lama")


@pytest.mark.parametrize("texture", ["grass", "gravel"])
def test_fsr_continues_texture_where_ns_smooths_it(texture: str) -> None:
    """Navier-Stokes diffuses the rim into the hole; FSR fits the surrounding block's frequencies, so
    the fill keeps the texture's local contrast (mean |horizontal step|), still below the truth's."""
    from skimage import data

    gray = getattr(data, texture)()[:256, :256]
    steps = {"truth": [], "ns": [], "fsr": []}
    for seed in range(3):
        damaged, mask = apply_damage(gray, np.random.default_rng(seed))
        inner = (mask > 0)[:, 1:] & (mask > 0)[:, :-1]
        for name, img in (("truth", gray), ("ns", classical_fill_image(damaged, mask, "ns")), ("fsr", classical_fill_image(damaged, mask, "fsr"))):
            steps[name].append(np.abs(np.diff(img.astype(float), axis=1))[inner].mean())
    truth, ns, fsr = (np.mean(steps[k]) for k in ("truth", "ns", "fsr"))
    assert 1.2 * ns < fsr < truth


def test_fsr_without_opencv_contrib_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    monkeypatch.delattr(cv2, "xphoto")
    gray = np.full((32, 32), 90, np.uint8)
    with pytest.raises(RuntimeError, match="opencv-contrib-python-headless"):
        classical_fill_image(gray, np.ones_like(gray), "fsr")


def test_shiftmap_needs_three_channels_and_changes_only_the_hole(photos: dict[str, np.ndarray]) -> None:
    gray = to_gray(photos["coffee"])[:128, :128]
    damaged, mask = apply_damage(gray, np.random.default_rng(1))
    filled = xphoto_fill(damaged, mask, "INPAINT_SHIFTMAP")
    assert filled.shape == gray.shape and filled.dtype == np.uint8
    np.testing.assert_array_equal(filled[mask == 0], damaged[mask == 0])
    assert (filled[mask > 0] != damaged[mask > 0]).mean() > 0.5
