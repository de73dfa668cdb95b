"""How colour looks to a person, beside the competition score.

The score's hue term compares hue histograms, so it rewards hues spread over the picture wherever they
land; a person sees that as speckle. These measures look at what the histogram cannot:

- `colourfulness`: Hasler & Süsstrunk's (2003) M, which tracks how colourful people rate a photo;
  a washed-out colorization has a fraction of the truth's.
- `chroma_bleed`: how much the chroma changes where the luminance does not. Real colour changes at
  edges; colour that wanders across a flat-luminance area is bleeding or blotchy noise. Compared with
  the truth's value of the same photo.
- `frechet_distance`: the Fréchet distance between two sets of feature vectors (Heusel et al. 2017),
  here of restored and true photos in a pretrained encoder's pooled features, an offline stand-in for
  FID (which needs Inception weights from a hub).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import linalg


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk's colourfulness M of a uint8 RGB image (0 for gray; ~100+ for vivid photos)."""
    x = rgb.astype(np.float64)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def chroma_bleed(rgb: np.ndarray, flat: float = 2.0) -> float:
    """Mean chroma gradient (CIELAB a*, b*, per pixel) where the lightness gradient is below `flat`
    L* units per pixel: colour that changes without an edge to change at. uint8 RGB in."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)

    def grad(channel: np.ndarray) -> np.ndarray:
        gx = cv2.Sobel(channel, cv2.CV_32F, 1, 0, ksize=3) / 8
        gy = cv2.Sobel(channel, cv2.CV_32F, 0, 1, ksize=3) / 8
        return np.hypot(gx, gy)

    still = grad(lab[..., 0]) < flat
    if not still.any():
        return 0.0
    chroma = np.hypot(grad(lab[..., 1]), grad(lab[..., 2]))
    return float(chroma[still].mean())


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets `a` (N, D) and `b` (M, D):
    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)). With fewer samples than dimensions the
    covariances are singular and the value is biased upwards: compare methods on the same photos."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(root).all():  # nearly singular product: nudge both, as pytorch-fid does
        eps = 1e-6 * np.eye(len(s_a))
        root = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * np.real(root)))
