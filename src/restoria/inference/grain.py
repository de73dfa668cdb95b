"""Grain and scanner noise: measured, and taken out only where there is some.

The trained enhancer corrects levels; the U-Net trained beside it learnt nothing on grain (the model
card). Grain is what a classical filter does well once its strength is known, so the photo's noise is
measured first: Immerkær's estimate ("Fast noise variance estimation", 1996; a difference of
Laplacians that cancels smooth gradients) read over the smoothest part of the photo only, where
texture cannot pass for noise (clean photos measure 0.3 to 1.6 gray levels, grainy ones up to 15). Above
`GRAIN_SIGMA` an edge-preserving bilateral filter whose range is a few times that noise smooths the
grain and keeps edges; below it the photo passes through untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

GRAIN_SIGMA = 2.0  # gray levels of measured noise above which a photo is denoised (benchmarks/damage.py --grain-sigma)
_LAPLACIAN_DIFFERENCE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(gray: np.ndarray, share: float = 0.15) -> float:
    """The noise of a uint8 gray photo, in gray levels (a standard deviation), read over its `share` of
    pixels where the image varies least (its gradient after a slight blur)."""
    f = gray.astype(np.float32)
    response = np.abs(cv2.filter2D(f, -1, _LAPLACIAN_DIFFERENCE))[2:-2, 2:-2]
    smooth = cv2.GaussianBlur(f, (0, 0), 2)
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))[2:-2, 2:-2]
    if response.size == 0:
        return 0.0
    flat = gradient <= np.quantile(gradient, share)
    return float(np.sqrt(np.pi / 2) * response[flat].mean() / 6)


def remove_grain(image: np.ndarray, sigma: float) -> np.ndarray:
    """A uint8 photo (gray or RGB) with noise of `sigma` gray levels smoothed away: a 5 px bilateral
    filter that averages only values within about 3 sigma of each other, so edges stay."""
    return cv2.bilateralFilter(image, 5, 3 * sigma, 3)
