"""Classical fill of a known hole: only the hole changes, and on a real photo it is nearer the truth
than the flat value the damage left."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restoria.data.damage import apply_damage
from restoria.fill import METHODS, classical_fill, classical_fill_image, fill_in_windows, xphoto_fill
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


def test_opencv_fills_without_opencv_contrib_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV's own FSR and shift-map need opencv-contrib; the offered fills do not."""
    import cv2

    monkeypatch.delattr(cv2, "xphoto")
    gray = np.full((32, 32), 90, np.uint8)
    hole = np.zeros_like(gray)
    hole[8:20, 8:20] = 1
    with pytest.raises(RuntimeError, match="INPAINT_FSR_BEST needs opencv-contrib.*opencv-contrib-python-headless"):
        xphoto_fill(gray, hole, "INPAINT_FSR_BEST")
    assert (classical_fill_image(gray, hole, "fsr") == 90).all()


def test_shiftmap_needs_three_channels_and_changes_only_the_hole(photos: dict[str, np.ndarray]) -> None:
    gray = to_gray(photos["coffee"])[:128, :128]
    damaged, mask = apply_damage(gray, np.random.default_rng(1))
    filled = xphoto_fill(damaged, mask, "INPAINT_SHIFTMAP")
    assert filled.shape == gray.shape and filled.dtype == np.uint8
    np.testing.assert_array_equal(filled[mask == 0], damaged[mask == 0])
    assert (filled[mask > 0] != damaged[mask > 0]).mean() > 0.5


def _competition(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A bundled photo as the competition sees it (512x512 gray) with its damage (one random polygon
    of one flat gray value), and the mask."""
    import cv2
    from skimage import data

    img = getattr(data, name)()
    gray = cv2.resize(img if img.ndim == 2 else to_gray(img), (512, 512), interpolation=cv2.INTER_AREA)
    return apply_damage(gray, np.random.default_rng(seed))


def _assert_same_fill(windowed: np.ndarray, whole: np.ndarray, hole: np.ndarray, damaged: np.ndarray) -> None:
    """Outside the damage both are the input, bit for bit; inside, the windowed fill is the whole-image
    one within a tenth of a gray level on average and one level at most. Measured: bit-exact for fsr,
    telea and ns on every photo and seed tried (FSR's windows keep its block grid and one clean block
    of context, so each block is extrapolated from the same pixels in the same order)."""
    np.testing.assert_array_equal(windowed[~hole], damaged[~hole])
    np.testing.assert_array_equal(whole[~hole], damaged[~hole])
    diff = np.abs(windowed.astype(int) - whole)[hole]
    assert diff.mean() < 0.1 and diff.max() <= 1


@pytest.mark.parametrize("name", ["astronaut", "camera", "coffee", "chelsea"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_windowed_fill_is_the_whole_image_fill_on_competition_damage(name: str, method: str) -> None:
    damaged, mask = _competition(name, seed=len(name))
    windowed = classical_fill_image(damaged, mask, method)
    _assert_same_fill(windowed, classical_fill_image(damaged, mask, method, windowed=False), mask > 0, damaged)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_windowed_fill_of_distant_near_and_border_regions(photos: dict[str, np.ndarray], method: str) -> None:
    """Two distant regions, two a few pixels apart (one window), and regions on the photo's edges, on a
    photo whose sides are not multiples of FSR's 16 px block (chelsea, 300x451)."""
    import cv2

    damaged = to_gray(photos["chelsea"])
    mask = np.zeros_like(damaged)
    cv2.fillPoly(mask, [np.array([[40, 30], [110, 50], [70, 100]], np.int32)], 255)
    cv2.circle(mask, (380, 220), 25, 255, -1)
    cv2.circle(mask, (380, 160), 20, 255, -1)  # 15 px above the circle before: both in one window
    mask[-20:, -37:] = 255  # the bottom-right corner
    mask[:9, 200:240] = 255  # the top edge
    hole = mask > 0
    damaged[hole] = 77
    windowed = classical_fill_image(damaged, mask, method)
    _assert_same_fill(windowed, classical_fill_image(damaged, mask, method, windowed=False), hole, damaged)


def test_windowed_fill_in_colour_is_the_whole_image_fill(photos: dict[str, np.ndarray]) -> None:
    """A colour photo keeps its colours (`Restorer.fill_colour`): FSR fills it in YCrCb, per window too."""
    import cv2

    rgb = cv2.resize(photos["coffee"], (512, 512), interpolation=cv2.INTER_AREA)
    _, mask = apply_damage(to_gray(rgb), np.random.default_rng(5))
    hole = mask > 0
    rgb[hole] = 200
    windowed = classical_fill_image(rgb, mask, "fsr")
    _assert_same_fill(windowed, classical_fill_image(rgb, mask, "fsr", windowed=False), hole, rgb)


def test_windows_cover_each_region_with_its_context_only() -> None:
    """Each distant region gets its own window (whole 16 px cells, clipped at the photo's edge), regions
    within two cells share one, and damage over most of the photo is filled whole."""
    calls: list[tuple[int, int]] = []

    def record(image: np.ndarray, region: np.ndarray) -> np.ndarray:
        calls.append(region.shape)
        return np.where(region, 255, image).astype(np.uint8)

    gray = np.full((200, 300), 90, np.uint8)
    mask = np.zeros_like(gray, bool)
    mask[40:60, 40:60] = True  # blocks 2-3 -> window rows and columns 16:80
    mask[180:200, 250:300] = True  # the bottom-right corner -> rows 160:200, columns 224:300
    out = fill_in_windows(record, gray, mask, cell=16)
    assert sorted(calls) == [(40, 76), (64, 64)]
    assert (out[mask] == 255).all() and (out[~mask] == 90).all()

    calls.clear()
    mask[40:60, 80:100] = True  # 20 px from the first: one window for both
    fill_in_windows(record, gray, mask, cell=16)
    assert sorted(calls) == [(40, 76), (64, 112)]

    calls.clear()
    mask[:150] = True
    fill_in_windows(record, gray, mask, cell=16)
    assert calls == [(200, 300)]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_no_damage_returns_the_photo_unchanged(photos: dict[str, np.ndarray], method: str) -> None:
    gray = to_gray(photos["astronaut"])
    filled = classical_fill_image(gray, np.zeros_like(gray), method)
    np.testing.assert_array_equal(filled, gray)
    assert filled is not gray


def test_colour_fsr_fills_the_last_partial_block_row_and_column(photos: dict[str, np.ndarray]) -> None:
    """OpenCV's colour FSR leaves a hole in a last, partial 16 px block unfilled (black); restoria.fsr's
    grid counts partial blocks, so the edge is filled like the rest: close to the truth, windowed or not."""
    rgb = photos["chelsea"][:300, :451]  # 300 = 18*16 + 12, 451 = 28*16 + 3
    hole = np.zeros(rgb.shape[:2], bool)
    hole[293:298, 100:140] = True  # in the last, partial block row
    hole[50:80, 449:451] = True  # in the last, partial block column
    for windowed in (False, True):
        out = classical_fill_image(rgb, hole, "fsr", windowed=windowed)
        assert out.shape == rgb.shape and np.array_equal(out[~hole], rgb[~hole])
        error = np.abs(out[hole].astype(int) - rgb[hole].astype(int)).mean()
        assert error < 20, (windowed, error)  # measured without the padding: about 100 (black)
