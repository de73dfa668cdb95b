"""Classical inpainting of a known hole (OpenCV's Navier-Stokes or Telea): the learned refiner's start.

Why: on the val split (48 crops, detected damage) OpenCV's Navier-Stokes fill scored a masked SSIM of
0.443 where the inpainting U-Net's own fill scored 0.368: propagating the boundary's isophotes into the
hole keeps the structure that SSIM rewards, where a U-Net trained with L1/MSE fills with a blurred
mean. So the learned stage starts from the classical fill and only learns a residual on it
(`TwoStageRestorer(refine=...)`), and `Restorer(fill="ns")` offers the classical fill alone.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

METHODS = {"ns": cv2.INPAINT_NS, "telea": cv2.INPAINT_TELEA}


def classical_fill_image(gray: np.ndarray, mask: np.ndarray, method: str = "ns", radius: int = 3) -> np.ndarray:
    """uint8 (H, W) gray with its hole (`mask` > 0) filled by OpenCV's `method`; other pixels unchanged."""
    if method not in METHODS:
        raise ValueError(f"fill method must be one of {', '.join(METHODS)}, got {method!r}")
    hole = (mask > 0).astype(np.uint8)
    if not hole.any():
        return gray.copy()
    return cv2.inpaint(gray, hole, radius, METHODS[method])


def classical_fill(gray: torch.Tensor, mask: torch.Tensor, method: str = "ns", radius: int = 3) -> torch.Tensor:
    """(B, 1, H, W) gray in [0, 1] and its damage (> 0.5 = lost) -> the same with each hole filled by
    `classical_fill_image` (on the 8-bit values, as the photo was read)."""
    grays = gray.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()[:, 0]
    holes = (mask.detach() > 0.5).cpu().numpy()[:, 0]
    filled = np.stack([classical_fill_image(g, h, method, radius) for g, h in zip(grays, holes)])
    return torch.from_numpy(filled).to(gray.device, gray.dtype).div(255).unsqueeze(1)
