"""Grain and scanner noise: measured, and taken out only where there is some.

The trained enhancer corrects levels; the U-Net trained beside it learnt nothing on grain (the model
card). Grain is what a classical filter does well once its strength is known, so the photo's noise is
measured first, at two scales:

- fine grain (a pixel's own noise): Immerkær's estimate ("Fast noise variance estimation", 1996; a
  difference of Laplacians that cancels smooth gradients) read over the smoothest part of the photo
  only, where texture cannot pass for noise (clean photos measure 0.3 to 1.6 gray levels, grainy ones
  up to 15). Above `GRAIN_SIGMA` an edge-preserving bilateral filter whose range is a few times that
  noise smooths it and keeps edges.
- clumped grain (noise blurred over a pixel or more, which the fine measure reads low): the residual
  from a 1.5 px blur in the photo's quietest 16 px blocks (the 10th percentile of their deviations:
  every block of a grainy photo carries the grain, some blocks of a clean one are smooth; clean photos
  read 0.4 to 3.1). Above `CLUMPED_GRAIN_SIGMA` non-local means, which averages similar patches
  however far apart, takes it out.

Below both the photo passes through untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

GRAIN_SIGMA = 2.0  # fine noise (gray levels) above which a photo is denoised (benchmarks/damage.py --grain-sigma)
CLUMPED_GRAIN_SIGMA = 4.0  # the clumped measure above which it is (clean photos: at most 3.1)
CLUMPED_TO_NOISE = 1 / 0.74  # the clumped measure reads 0.74 of the ageing model's grain (median, 90 held-out photos)
_LAPLACIAN_DIFFERENCE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
_BLOCK = 16


def noise_sigma(gray: np.ndarray, share: float = 0.15) -> float:
    """The fine noise of a uint8 gray photo, in gray levels (a standard deviation), read over its
    `share` of pixels where the image varies least (its gradient after a slight blur)."""
    f = gray.astype(np.float32)
    response = np.abs(cv2.filter2D(f, -1, _LAPLACIAN_DIFFERENCE))[2:-2, 2:-2]
    smooth = cv2.GaussianBlur(f, (0, 0), 2)
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_32F, 1, 0), cv2.Sobel(smooth, cv2.CV_32F, 0, 1))[2:-2, 2:-2]
    if response.size == 0:
        return 0.0
    flat = gradient <= np.quantile(gradient, share)
    return float(np.sqrt(np.pi / 2) * response[flat].mean() / 6)


def clumped_noise_sigma(gray: np.ndarray, quantile: float = 10) -> float:
    """The clumped-grain measure of a uint8 gray photo: the `quantile`th percentile, over its 16 px
    blocks, of the deviation of the photo from a 1.5 px blur of itself."""
    f = gray.astype(np.float32)
    residual = f - cv2.GaussianBlur(f, (0, 0), 1.5)
    h, w = (residual.shape[0] // _BLOCK) * _BLOCK, (residual.shape[1] // _BLOCK) * _BLOCK
    if h == 0 or w == 0:
        return 0.0
    blocks = residual[:h, :w].reshape(h // _BLOCK, _BLOCK, w // _BLOCK, _BLOCK).transpose(0, 2, 1, 3).reshape(-1, _BLOCK * _BLOCK)
    return float(np.percentile(blocks.std(1), quantile))


def remove_grain(image: np.ndarray, sigma: float) -> np.ndarray:
    """A uint8 photo (gray or RGB) with fine noise of `sigma` gray levels smoothed away: a 5 px
    bilateral filter that averages only values within about 3 sigma of each other, so edges stay."""
    return cv2.bilateralFilter(image, 5, 3 * sigma, 3)


def remove_clumped_grain(image: np.ndarray, sigma: float) -> np.ndarray:
    """A uint8 photo (gray or RGB) with clumped grain of about `sigma` gray levels taken out by
    non-local means at a strength of 1.2 sigma (7 px patches, searched over 21 px)."""
    h = 1.2 * sigma
    if image.ndim == 2:
        return cv2.fastNlMeansDenoising(image, None, h, 7, 21)
    return cv2.fastNlMeansDenoisingColored(image, None, h, h, 7, 21)


def take_out_grain(image: np.ndarray, gray: np.ndarray, fine: float | None = GRAIN_SIGMA, clumped: float | None = CLUMPED_GRAIN_SIGMA) -> tuple[np.ndarray, float]:
    """A uint8 photo (and its gray) -> (the photo with its grain taken out, or as it was; the noise
    measured, in gray levels, 0.0 when it passed through). `fine` / `clumped` None skips that kind."""
    sigma = noise_sigma(gray)
    if fine is not None and sigma > fine:
        return remove_grain(image, sigma), sigma
    measured = clumped_noise_sigma(gray)
    if clumped is not None and measured > clumped:
        sigma = measured * CLUMPED_TO_NOISE
        return remove_clumped_grain(image, sigma), sigma
    return image, 0.0
