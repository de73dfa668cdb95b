"""restoria.fsr, the batched Frequency Selective Reconstruction: as good as OpenCV's one-block-at-a-time
original inside the damage, in gray and in colour, and it does what the method says (busy blocks split
into smaller ones, rounds of blocks that never touch)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import restoria.fsr as fsr
from restoria.data.damage import apply_damage
from restoria.fill import xphoto_fill
from restoria.imaging import to_gray


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b.astype(float)) ** 2)))


def _competition(photo: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gray = cv2.resize(to_gray(photo), (512, 512), interpolation=cv2.INTER_AREA)
    damaged, mask = apply_damage(gray, np.random.default_rng(seed))
    return gray, damaged, mask > 0


def test_as_good_as_opencvs_fsr_inside_the_damage(photos: dict[str, np.ndarray]) -> None:
    """Competition damage on four bundled photos at 512 px: the luma PSNR inside the hole matches
    OpenCV's INPAINT_FSR_FAST (measured: 22.55 dB against 22.31 on these four, 16.77 against 16.73
    over 18 cases), and the two fills are close pixel by pixel; outside the hole nothing changes."""
    ours, theirs, diffs = [], [], []
    for seed, name in enumerate(("astronaut", "coffee", "chelsea", "rocket")):
        gray, damaged, hole = _competition(photos[name], seed)
        filled = fsr.fsr_fill(damaged, hole)
        reference = xphoto_fill(damaged, hole, "INPAINT_FSR_FAST")
        np.testing.assert_array_equal(filled[~hole], damaged[~hole])
        ours.append(_psnr(filled[hole], gray[hole]))
        theirs.append(_psnr(reference[hole], gray[hole]))
        diffs.append(np.abs(filled[hole].astype(int) - reference[hole]).mean())
        assert ours[-1] > _psnr(damaged[hole], gray[hole]) + 3
    assert np.mean(ours) > np.mean(theirs) - 0.3, (ours, theirs)
    assert np.median(diffs) < 4, diffs


def test_colour_is_filled_in_its_own_colours(photos: dict[str, np.ndarray]) -> None:
    """A colour photo is filled in YCrCb like OpenCV's: close to the truth in every channel, and as close
    as OpenCV's own fill."""
    rgb = cv2.resize(photos["coffee"], (256, 256), interpolation=cv2.INTER_AREA)
    hole = np.zeros(rgb.shape[:2], bool)
    cv2.circle(hole.view(np.uint8), (90, 150), 18, 1, -1)
    damaged = rgb.copy()
    damaged[hole] = (0, 200, 0)
    filled = fsr.fsr_fill(damaged, hole)
    np.testing.assert_array_equal(filled[~hole], rgb[~hole])
    reference = xphoto_fill(damaged, hole, "INPAINT_FSR_FAST")
    assert _psnr(filled[hole], rgb[hole]) > _psnr(reference[hole], rgb[hole]) - 1.0
    assert _psnr(filled[hole], rgb[hole]) > _psnr(damaged[hole], rgb[hole]) + 8  # measured 18.2 dB (OpenCV 18.1) against 6.3


def _record_rounds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[tuple[int, int]]]]:
    rounds: list[tuple[int, list[tuple[int, int]]]] = []
    extrapolate = fsr._extrapolate

    def record(img, known, wave, size, *rest):  # noqa: ANN001, ANN202
        rounds.append((size, list(wave)))
        return extrapolate(img, known, wave, size, *rest)

    monkeypatch.setattr(fsr, "_extrapolate", record)
    return rounds


def test_flat_surroundings_take_whole_blocks_and_texture_smaller_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block whose surroundings are flat is extrapolated whole (16 px); one in a busy texture is split
    down to 4 px blocks, which follow the texture closer."""
    from skimage import data

    rounds = _record_rounds(monkeypatch)
    hole = np.zeros((128, 128), bool)
    hole[50:70, 40:90] = True
    flat = np.full((128, 128), 120, np.uint8)
    assert (fsr.fsr_fill(flat, hole)[hole] == 120).all()
    assert {size for size, _ in rounds} == {16}
    rounds.clear()
    fsr.fsr_fill(data.gravel()[:128, :128], hole)
    assert 4 in {size for size, _ in rounds}


def test_each_round_takes_blocks_that_never_touch_and_fills_them_all(photos: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocks of one round are extrapolated together, so no two of them may be neighbours (each
    would need the other's result); over all rounds every damaged pixel is filled exactly once per
    block size it was left at."""
    rounds = _record_rounds(monkeypatch)
    _, damaged, hole = _competition(photos["astronaut"], 3)
    fsr.fsr_fill(damaged, hole)
    assert rounds and max(len(w) for _, w in rounds) > 1
    for _, wave in rounds:
        for i, (y, x) in enumerate(wave):
            assert all(max(abs(y - y2), abs(x - x2)) > 1 for y2, x2 in wave[i + 1 :])
    covered = np.zeros_like(hole)
    for size, wave in rounds:
        for y, x in wave:
            covered[y * size : (y + 1) * size, x * size : (x + 1) * size] = True
    assert covered[hole].all()


def test_nothing_known_leaves_the_photo_as_it_was() -> None:
    """Damage over the whole photo leaves nothing to extrapolate from: the photo comes back as it was,
    rather than a division by zero."""
    gray = np.full((48, 64), 70, np.uint8)
    np.testing.assert_array_equal(fsr.fsr_fill(gray, np.ones_like(gray)), gray)
