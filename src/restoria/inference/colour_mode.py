"""Is this photo in colour, or a monochrome print (gray or toned) that needs colour?

Decided from the pixels, not the file mode: a scan of a black-and-white print is usually saved as RGB,
and toning (sepia, selenium, cyanotype) or fading gives it a tint. A toned print's chroma is a function
of its lightness: every pixel of one lightness has the same tint (sepia: warm in the mid-tones, neutral
in the highlights). A colour photo has different colours at the same lightness (a red coat and a green
hedge of equal brightness). So: fit the tint as a smooth function of lightness and measure what is left.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from restoria.imaging import scaled

Mode = Literal["colour", "toned", "gray"]
MODES = ("colour", "toned", "gray")
GRAY_CHROMA = 3.0  # CIELAB chroma below which a photo has no visible tint at all (95th percentile)
COLOUR_RESIDUAL = 6.0  # CIELAB chroma units left after removing the lightness-dependent tint
LIGHTNESS_BINS = 64
MAX_SIDE = 256  # the decision needs no detail; a small copy keeps it cheap on a 12 MP scan (area
# averaging also takes out the scan's grain)


def tint_residual(rgb: np.ndarray) -> tuple[float, float]:
    """(95th percentile of CIELAB chroma, 90th percentile of the chroma left after subtracting the
    mean (a*, b*) of each lightness bin) of a uint8 RGB photo."""
    h, w = rgb.shape[:2]
    scale = MAX_SIDE / max(h, w)
    if scale < 1:
        rgb = scaled(rgb, scale)
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    bins = np.minimum((lab[:, 0] / 100 * LIGHTNESS_BINS).astype(int), LIGHTNESS_BINS - 1)
    counts = np.bincount(bins, minlength=LIGHTNESS_BINS)
    used = counts > 0
    centres = np.bincount(bins, lab[:, 0], LIGHTNESS_BINS)[used] / counts[used]
    # the tint as a piecewise-linear function of lightness through each bin's mean (a*, b*)
    tint = [np.interp(lab[:, 0], centres, np.bincount(bins, lab[:, c], LIGHTNESS_BINS)[used] / counts[used]) for c in (1, 2)]
    residual = np.hypot(lab[:, 1] - tint[0], lab[:, 2] - tint[1])
    return float(np.percentile(chroma, 95)), float(np.percentile(residual, 90))


def colour_mode(rgb: np.ndarray) -> Mode:
    """"gray" (no tint), "toned" (one tint per lightness: sepia, selenium, cyanotype, faded
    monochrome) or "colour" (several colours at the same lightness) for a uint8 RGB or gray photo."""
    if rgb.ndim == 2 or rgb.shape[-1] == 1:
        return "gray"
    chroma, residual = tint_residual(rgb)
    if chroma < GRAY_CHROMA:
        return "gray"
    return "colour" if residual >= COLOUR_RESIDUAL else "toned"
