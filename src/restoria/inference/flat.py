"""Finding lost regions that were filled with one flat value.

The competition's damage (and much real-world damage: a patch of paint, a blank tear) is a region of ONE
gray value. Natural photos almost never hold hundreds of connected pixels of exactly one value outside
clipped highlights and shadows, so flat connected components are a precise, training-free detector. The
restore pipeline combines it with a learned one: the dedicated segmenter (`Segmenter`) or the
inpainter's own damage head, and may first ask a classifier (`DamageClassifier`) whether the photo is
damaged at all.
"""

from __future__ import annotations

import cv2
import numpy as np

REFERENCE_SIZE = 512


MIN_AREA_AT_REFERENCE = 300  # the competition's polygons exceed 625 px; their flat interior is a bit less
# the learned detector finds real damage too: a speck of dust or a short hair is a few pixels
MIN_LEARNED_AREA_AT_REFERENCE = 300  # a segmenter that knows the competition's polygons only
# one trained on real damage: most dust specks cover 1-13 px at 512 (restoria.data.ageing.dust); chosen
# with benchmarks/damage.py --min-areas 15 8 4 2 and benchmarks/clean_photos.py --min-area (the model card)
REAL_DAMAGE_MIN_AREA_AT_REFERENCE = 4
# and a region smaller than this (px at 512) counts only where its map reaches REAL_DAMAGE_SMALL_PEAK: a
# speck has little around it to tell dust from a lattice's crossing, so it needs surer evidence
REAL_DAMAGE_SMALL_AREA_AT_REFERENCE = 15
REAL_DAMAGE_SMALL_PEAK = 0.9
REAL_DAMAGE_THRESHOLD = 0.5  # and the damage probability its map must reach (benchmarks/damage.py --thresholds)
REAL_DAMAGE_GROW_AT_REFERENCE = 2  # px its found regions are grown by before the fill (benchmarks/damage.py --grows)
REAL_DAMAGE_LOW_THRESHOLD: float | None = None  # hysteresis: weaker pixels joined to a sure one (benchmarks/damage.py --low-thresholds)
# mirrored / rotated views its map is averaged over, and the probability that averaged map must reach
# (benchmarks/damage.py --views, benchmarks/clean_photos.py --views)
REAL_DAMAGE_VIEWS = 8
REAL_DAMAGE_VIEWS_THRESHOLD = 0.7
REAL_DAMAGE_SHARE = 0.005  # the share of a photo it must find for `classify` to call the photo damaged (chosen on 40 val photos; benchmarks/damage.py --only classify)


def min_region_area(shape: tuple[int, int], at_reference: int = MIN_AREA_AT_REFERENCE, floor: int = 16) -> int:
    """The smallest lost region worth reporting, scaled from the competition's 512x512 photos."""
    scale = min(shape) / REFERENCE_SIZE
    return max(min(floor, at_reference), int(at_reference * scale * scale))


def drop_small_regions(mask: np.ndarray, min_area: int | None = None) -> np.ndarray:
    """Remove connected regions smaller than `min_area` (default: the learned detector's smallest damage)
    from a binary mask (uint8, >0 = lost)."""
    min_area = min_region_area(mask.shape, MIN_LEARNED_AREA_AT_REFERENCE) if min_area is None else min_area
    n, labels, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area
    return keep[labels].astype(np.uint8) * 255


def flat_interior(gray: np.ndarray) -> np.ndarray:
    """bool map of pixels whose 3x3 neighbourhood holds one value: the inside of a flat region."""
    kernel = np.ones((3, 3), np.uint8)
    return cv2.dilate(gray, kernel) == cv2.erode(gray, kernel)


def flat_regions(
    gray: np.ndarray,
    min_area: int | None = None,
    exclude_clipped: bool = True,
    min_edge_contrast: int = 4,
    min_edge_fraction: float = 0.5,
) -> np.ndarray:
    """uint8 mask (255 = lost) of connected regions of one exact gray value, at least `min_area` px.

    A pasted region ends in a hard edge, a flat patch of sky fades into its surroundings: a region is
    kept when at least `min_edge_fraction` of the pixels around it differ from its value by
    `min_edge_contrast` or more. `exclude_clipped` ignores regions at 0 or 255, which in real photos are
    clipped shadows and highlights rather than damage.
    """
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError("flat_regions expects a uint8 gray image")
    min_area = min_region_area(gray.shape) if min_area is None else min_area
    kernel = np.ones((3, 3), np.uint8)
    interior = flat_interior(gray).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(interior, connectivity=8)
    mask = np.zeros(gray.shape, np.uint8)
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            continue
        x, y, w, h = stats[i, :4]
        y0, y1, x0, x1 = max(0, y - 3), min(gray.shape[0], y + h + 3), max(0, x - 3), min(gray.shape[1], x + w + 3)
        comp = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
        value = gray[y0:y1, x0:x1][comp > 0][0]
        if exclude_clipped and value in (0, 255):
            continue
        # the interior test drops the region's 1-px rim and thin spikes: grow back over equal pixels
        same = (gray[y0:y1, x0:x1] == value).astype(np.uint8)
        for _ in range(3):
            comp = cv2.dilate(comp, kernel) & same
        ring = (cv2.dilate(comp, kernel) > 0) & (comp == 0)
        contrast = np.abs(gray[y0:y1, x0:x1][ring].astype(np.int16) - int(value))
        if ring.any() and (contrast >= min_edge_contrast).mean() < min_edge_fraction:
            continue
        mask[y0:y1, x0:x1] |= comp * np.uint8(255)
    return mask


def regions_confirmed(candidates: np.ndarray, evidence: np.ndarray, min_fraction: float = 0.5) -> np.ndarray:
    """The connected regions of `candidates` (bool) of which at least `min_fraction` lies in `evidence`."""
    n, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros(candidates.shape, bool)
    inside = np.bincount(labels.ravel(), weights=evidence.ravel().astype(np.float64), minlength=n)
    size = np.bincount(labels.ravel(), minlength=n)
    keep = inside >= min_fraction * size
    keep[0] = False
    return keep[labels]


def unflat_regions(gray: np.ndarray, learned: np.ndarray, min_area: int | None = None) -> np.ndarray:
    """The learned regions (bool, at least `min_area` px) that are mostly NOT flat: damage that flat-fill
    detection cannot see (scratches, cracks, dust, stains). bool map."""
    return regions_confirmed(drop_small_regions(learned, min_area) > 0, ~flat_interior(gray))


def all_fills(gray: np.ndarray) -> np.ndarray:
    """bool map of every hard-edged flat fill, those at 0 or 255 included."""
    return flat_regions(gray, exclude_clipped=False) > 0


def mid_tone(fills: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """The fills (bool) that are not at 0 or 255: damage on their own (= `flat_regions(gray)`)."""
    return fills & ~((gray == 0) | (gray == 255))


def learned_regions(gray: np.ndarray, learned: np.ndarray, min_area: int | None = None, fills: np.ndarray | None = None) -> np.ndarray:
    """What a learned damage map (bool) adds to flat-fill detection (bool map): the flat regions at 0 or
    255 it marks most of (their exact pixels), and its regions of `min_area` px or more that are mostly
    NOT flat. See `combine_detections`. `fills`: `all_fills(gray)`, when already computed."""
    fills = all_fills(gray) if fills is None else fills
    clipped = (gray == 0) | (gray == 255)  # each fill is one value, so this splits them exactly
    return regions_confirmed(fills & clipped, drop_small_regions(learned, min_area) > 0) | unflat_regions(gray, learned, min_area)


def combine_detections(gray: np.ndarray, learned: np.ndarray | None, min_area: int | None = None) -> np.ndarray:
    """uint8 mask (255 = lost) from flat-fill detection and a learned damage map (bool, or None).

    Each detector covers the other's blind spot without adding its errors:
    - flat fills of a mid-tone value are damage (hard-edged regions of one exact value);
    - a flat region at 0 or 255 is a clipped shadow or highlight unless the learned detector marks most
      of it: then its exact pixels are taken (sharper than the network's edge);
    - a learned region that is mostly NOT flat is damage flat-fill detection cannot see (kept as found);
    - a learned region over a flat area that flat-fill detection rejected (no hard edge, or clipped and
      unconfirmed) is dropped: there the network only sees flatness, which natural photos also have.
    The model card compares it with each detector alone and their plain union (`python benchmarks/detectors.py`).
    `min_area`: the smallest learned region kept, in pixels (default: `MIN_LEARNED_AREA_AT_REFERENCE`, scaled).
    """
    fills = all_fills(gray)
    found = mid_tone(fills, gray)
    if learned is not None:
        found |= learned_regions(gray, learned, min_area, fills)
    return found.astype(np.uint8) * 255
