"""How well damage is found and repaired, per photo: the measures of real-damage restoration.

Thin damage (a 1-px scratch, a crack) found 1 px off is found: plain IoU would call it a miss. So the
detection measure is a tolerance-aware F1: a predicted pixel counts as right when a true one lies
within `tolerance` px of it (precision), and a true pixel as found when a predicted one lies within
`tolerance` px of it (recall), as in boundary F-measures (Martin et al. 2004). IoU is given beside it.
Repair is judged on luma (BT.601), over the whole photo and inside the damage, against the clean photo;
PSNR is capped at MAX_PSNR (a few pixels filled exactly would otherwise make a mean infinite).
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from restoria.imaging import to_gray

MAX_PSNR = 60.0


def _near(mask: np.ndarray, tolerance: float) -> np.ndarray:
    """Pixels within `tolerance` px (Euclidean) of a pixel of `mask`."""
    if not mask.any():
        return np.zeros(mask.shape, bool)
    return cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5) <= tolerance


def tolerant_f1(pred: np.ndarray, true: np.ndarray, tolerance: float = 2.0) -> dict[str, float]:
    """precision, recall, f1 (tolerance-aware) and plain iou of a predicted against a true mask (>0 = damage).
    Both empty counts as perfect; one empty and not the other as 0."""
    p, t = pred > 0, true > 0
    if not p.any() and not t.any():
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0, "iou": 1.0}
    precision = float((p & _near(t, tolerance)).sum() / p.sum()) if p.any() else 0.0
    recall = float((t & _near(p, tolerance)).sum() / t.sum()) if t.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "iou": float((p & t).sum() / (p | t).sum())}


def luma_scores(pred: np.ndarray, clean: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float]:
    """Luma PSNR and SSIM of a uint8 photo (gray or RGB) against the clean one over the whole photo, and
    PSNR and SSIM inside `mask` (>0) when one is given (SSIM's local map averaged over the mask)."""
    p = (pred if pred.ndim == 2 else to_gray(pred)).astype(np.float64)
    c = (clean if clean.ndim == 2 else to_gray(clean)).astype(np.float64)
    ssim, ssim_map = structural_similarity(c, p, data_range=255, full=True)
    out = {"psnr": _psnr(c, p), "ssim": float(ssim)}
    if mask is not None and (mask > 0).any():
        m = mask > 0
        out["psnr_mask"] = _psnr(c[m], p[m])
        out["ssim_mask"] = float(ssim_map[m].mean())
    return out


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB for 8-bit data, capped at MAX_PSNR so a perfect result does not make a mean infinite."""
    mse = float(((a - b) ** 2).mean())
    return min(MAX_PSNR, 10 * np.log10(255**2 / mse)) if mse > 0 else MAX_PSNR
