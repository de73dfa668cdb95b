"""Flat-fill damage detection finds the competition's lost regions and leaves real photos alone."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from restoria.data.damage import DamageConfig, apply_damage
from restoria.inference.flat import flat_regions


def test_finds_polygons_on_real_photos(photos: dict[str, np.ndarray]) -> None:
    ious = []
    for i, (name, rgb) in enumerate(sorted(photos.items())):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        for seed in range(3):
            damaged, mask = apply_damage(gray, np.random.default_rng([i, seed]), DamageConfig(max_regions=2))
            found = flat_regions(damaged) > 0
            ious.append((found & (mask > 0)).sum() / ((found | (mask > 0)).sum()))
    assert np.mean(ious) > 0.95 and np.min(ious) > 0.5, ious


def test_undamaged_photos_give_little(photos: dict[str, np.ndarray]) -> None:
    for rgb in photos.values():
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        assert (flat_regions(gray) > 0).mean() < 0.01


def test_soft_edges_are_not_damage() -> None:
    """A flat patch that fades into its surroundings (a clear sky) is not a pasted region."""
    yy, xx = np.mgrid[0:256, 0:256]
    sky = np.clip(120 + np.hypot(yy - 128, xx - 128) / 8 - 6, 0, 255).astype(np.uint8)
    sky[np.hypot(yy - 128, xx - 128) < 48] = 120
    assert (flat_regions(sky) > 0).sum() == 0
    pasted = sky.copy()
    pasted[20:80, 150:230] = 200
    found = flat_regions(pasted) > 0
    assert found[20:80, 150:230].all() and found.sum() == 60 * 80


def test_small_regions_are_dropped() -> None:
    from restoria.inference.flat import drop_small_regions

    mask = np.zeros((512, 512), np.uint8)
    mask[10:20, 10:20] = 1  # 100 px: noise, not a lost region
    mask[100:200, 100:200] = 1
    out = drop_small_regions(mask)
    assert out[15, 15] == 0 and out[150, 150] == 255 and (out > 0).sum() == 100 * 100


def _photo_with_fills(photos: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A real photo with a mid-gray fill, a black fill (looks like a clipped shadow) and a natural-looking
    clipped black patch with a soft edge that is not damage."""
    gray = cv2.cvtColor(photos["coffee"], cv2.COLOR_RGB2GRAY)[:256, :256].copy()
    gray = np.clip(gray, 1, 254).astype(np.uint8)
    gray[20:70, 20:90] = 140  # damage, mid-tone
    gray[150:210, 30:100] = 0  # damage at 0
    shadow = np.zeros(gray.shape, bool)
    shadow[160:230, 160:240] = True
    ring = cv2.dilate(shadow.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    gray[ring & ~shadow] = 1  # fades out: no hard edge
    gray[shadow] = 0
    return gray, shadow


def test_combined_detection_takes_each_detector_where_it_can_be_trusted(photos: dict[str, np.ndarray]) -> None:
    from restoria.inference.flat import combine_detections

    gray, shadow = _photo_with_fills(photos)
    black_fill = np.zeros(gray.shape, bool)
    black_fill[150:210, 30:100] = True
    assert not (combine_detections(gray, None) > 0)[black_fill].any()  # a 0 fill alone is not trusted
    learned = np.zeros(gray.shape, bool)
    learned[148:205, 28:95] = True  # the network's blurry view of the black fill: most of it, edges off
    learned[160:230, 160:240] = True  # a false alarm on the natural flat shadow
    learned[90:130, 150:220] = True  # textured damage flat detection cannot see
    found = combine_detections(gray, learned) > 0
    assert found[20:70, 20:90].all()  # the mid-gray fill, by flat detection
    assert found[black_fill].all()  # the black fill, confirmed by the network
    assert not found[148:150, 28:95].any()  # the black fill's exact pixels, not the network's edge
    assert not found[shadow].any()  # flat but soft-edged: the network's alarm is dropped
    assert found[90:130, 150:220].all()  # not flat: the network is the only witness and is kept


def test_shipped_classifier_tells_damaged_from_clean_photos(photos: dict[str, np.ndarray]) -> None:
    """The default classifier on photos it never saw: each clean, and with one competition polygon."""
    from restoria.inference.detectors import DamageClassifier
    from restoria.weights import default_weights

    classifier = DamageClassifier(default_weights("classify.safetensors"))
    right = []
    for i, (name, rgb) in enumerate(sorted(photos.items())):
        gray = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (512, 512), interpolation=cv2.INTER_AREA)
        damaged, _ = apply_damage(gray, np.random.default_rng(i), DamageConfig())
        right += [classifier(gray) < 0.5, classifier(damaged) >= 0.5]
    assert np.mean(right) >= 0.9, right


def test_real_damage_regions_grow_with_the_photo() -> None:
    """A real-damage segmenter's found regions grow by its radius at 512 px, scaled to the photo; the
    competition's segmenter (radius 0) leaves them as found."""
    from restoria.inference.detectors import Segmenter
    from restoria.weights import default_weights

    seg = Segmenter(default_weights("segment.safetensors"))
    assert seg.grow_at_reference == 0
    for side, radius in ((512, 2), (1024, 4)):
        dot = np.zeros((side, side), bool)
        dot[side // 2, side // 2] = True
        assert (seg.grow(dot) == dot).all()
        seg.grow_at_reference = 2
        grown = seg.grow(dot)
        rows = np.nonzero(grown[:, side // 2])[0]
        assert rows.min() == side // 2 - radius and rows.max() == side // 2 + radius
        seg.grow_at_reference = 0


def test_a_segmenters_file_carries_its_threshold_and_growth(tmp_path: Path) -> None:
    """Weights shipped with the threshold and growth a benchmark chose for them use those; without, a
    real-damage segmenter takes the defaults. Its map is averaged over REAL_DAMAGE_VIEWS views by
    default, with the threshold for averaged maps; over one view the file's single-view one counts."""
    import torch

    from restoria.inference.detectors import Segmenter
    from restoria.inference.flat import REAL_DAMAGE_GROW_AT_REFERENCE, REAL_DAMAGE_THRESHOLD, REAL_DAMAGE_VIEWS, REAL_DAMAGE_VIEWS_THRESHOLD
    from restoria.weights import ship
    from conftest import detector_weights

    plain = detector_weights(tmp_path, "segment", 1.0, real_damage=True)  # every pixel at p = 0.73
    chosen = ship(plain, tmp_path / "chosen.safetensors", threshold=0.8, grow=3)
    x = torch.full((1, 1, 64, 64), 0.5)
    default, tuned = Segmenter(plain), Segmenter(chosen)
    assert default.views == tuned.views == REAL_DAMAGE_VIEWS > 1
    assert (default.threshold, default.grow_at_reference) == (REAL_DAMAGE_VIEWS_THRESHOLD, REAL_DAMAGE_GROW_AT_REFERENCE)
    for seg in (default, tuned):
        seg.use_views(1)
    assert (default.threshold, default.grow_at_reference) == (REAL_DAMAGE_THRESHOLD, REAL_DAMAGE_GROW_AT_REFERENCE)
    assert (tuned.threshold, tuned.grow_at_reference) == (0.8, 3.0)
    assert (default(x) > default.threshold).all() and not (tuned(x) > tuned.threshold).any()
    averaged = Segmenter(ship(plain, tmp_path / "averaged.safetensors", threshold=0.8, views=2, views_threshold=0.6))
    assert (averaged.views, averaged.threshold) == (2, 0.6)
    with pytest.raises(ValueError, match="views must be one of"):
        averaged.use_views(3)


def test_hysteresis_takes_a_crack_whole_and_leaves_a_faint_lookalike(tmp_path: Path) -> None:
    """With a low threshold (from the weights' file), pixels above it count where they join a pixel
    above the threshold: a crack sure in its middle and faint at its ends is found whole, a line as faint
    as those ends but nowhere sure is not. Without one, only the sure middle is found."""
    from restoria.inference.detectors import Segmenter
    from restoria.weights import ship
    from conftest import detector_weights

    plain = detector_weights(tmp_path, "segment", 1.0, real_damage=True)
    prob = np.zeros((64, 64), np.float32)
    prob[20, 5:60] = 0.6  # the crack's faint ends
    prob[20, 25:40] = 0.95  # its sure middle
    prob[45, 5:60] = 0.6  # a look-alike, nowhere sure
    plain_found = Segmenter(ship(plain, tmp_path / "high.safetensors", threshold=0.85, views=1)).found(prob)
    found = Segmenter(ship(plain, tmp_path / "hyst.safetensors", threshold=0.85, low_threshold=0.5, views=1)).found(prob)
    assert found[20, 5:60].all() and not found[45].any() and found.sum() == 55
    assert plain_found[20, 25:40].all() and plain_found.sum() == 15


def test_a_speck_counts_only_where_the_map_is_sure_of_it(tmp_path: Path) -> None:
    """A real-damage region smaller than REAL_DAMAGE_SMALL_AREA_AT_REFERENCE px counts only where its map
    reaches REAL_DAMAGE_SMALL_PEAK: a sure speck of dust is found, an unsure one is not, and a larger
    region as unsure as that one is (its size is evidence). The competition's segmenter keeps all."""
    from restoria.inference.detectors import Segmenter
    from restoria.inference.flat import REAL_DAMAGE_SMALL_PEAK
    from restoria.weights import default_weights
    from conftest import detector_weights

    seg = Segmenter(detector_weights(tmp_path, "segment", 1.0, real_damage=True))
    assert seg.small_peak == REAL_DAMAGE_SMALL_PEAK > seg.threshold
    weak = (seg.threshold + seg.small_peak) / 2
    prob = np.zeros((512, 512), np.float32)
    prob[100:103, 100:103] = REAL_DAMAGE_SMALL_PEAK + 0.05  # a sure 9 px speck
    prob[200:203, 200:203] = weak  # an unsure one
    prob[300:306, 300:306] = weak  # an unsure region of 36 px
    found = seg.found(prob)
    assert found[100:103, 100:103].all() and not found[200:203, 200:203].any() and found[300:306, 300:306].all()
    assert found.sum() == 9 + 36
    polygons = Segmenter(default_weights("segment.safetensors"))
    polygons.threshold = seg.threshold
    assert polygons.small_peak is None and polygons.found(prob).sum() == 9 + 9 + 36


def test_a_segmenters_views_average_its_maps_of_the_mirrored_photo(photos: dict[str, np.ndarray]) -> None:
    """With `views` 4 the shipped real-damage segmenter's map is the mean of its maps of the photo and of
    its three mirror images, each mirrored back; the photo itself is not square."""
    import torch

    from restoria.imaging import to_tensor
    from restoria.inference.detectors import Segmenter
    from restoria.inference.flat import REAL_DAMAGE_VIEWS
    from restoria.weights import default_weights

    seg = Segmenter(default_weights("segment_real.safetensors"))
    assert seg.views == REAL_DAMAGE_VIEWS
    gray = cv2.resize(cv2.cvtColor(photos["astronaut"], cv2.COLOR_RGB2GRAY), (192, 128), interpolation=cv2.INTER_AREA)
    x = to_tensor(gray)[None]
    seg.views = 1
    mirrored = [seg(x.flip(dims)).flip(dims) if dims else seg(x) for dims in ((), (-1,), (-2,), (-2, -1))]
    seg.views = 4
    averaged = seg(x)
    torch.testing.assert_close(averaged, torch.stack(mirrored).mean(0), atol=1e-5, rtol=1e-4)
    assert (mirrored[1] - mirrored[0]).abs().max() > 0.01  # the network does depend on orientation
