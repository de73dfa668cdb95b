"""Classical inpainting of a known hole (OpenCV's Navier-Stokes, Telea, or opencv-contrib's
Frequency Selective Reconstruction): the default fill stage and the learned refiner's start.

Why: propagating the boundary's isophotes into the hole keeps the structure that SSIM rewards, where a
U-Net trained with L1/MSE fills with a blurred mean. FSR (Seiler et al., TIP 2015; Genser et al., PCS
2018; `cv2.xphoto.inpaint`) goes further on the competition's large polygons: it models each block
around the hole as a sparse sum of Fourier basis functions fitted to the known pixels, so texture and
edges continue through the hole instead of smearing from its rim; it is also the slowest. The model
card compares them (`python benchmarks/fills.py`). The learned stage can start from any of them and
learn a residual (`TwoStageRestorer(refine=...)`); `Restorer(fill=...)` offers each alone.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

METHODS = ("ns", "telea", "fsr")


def classical_fill_image(gray: np.ndarray, mask: np.ndarray, method: str = "ns", radius: int = 3) -> np.ndarray:
    """uint8 (H, W) gray, or (H, W, 3) colour filled in its own colours, with its hole (`mask` > 0)
    filled by `method`; other pixels unchanged. `radius` is the neighbourhood of ns and telea (FSR
    chooses its own blocks)."""
    if method not in METHODS:
        raise ValueError(f"fill method must be one of {', '.join(METHODS)}, got {method!r}")
    hole = (mask > 0).astype(np.uint8)
    if not hole.any():
        return gray.copy()
    if method == "fsr":
        return xphoto_fill(gray, hole, "INPAINT_FSR_FAST")
    return cv2.inpaint(gray, hole, radius, cv2.INPAINT_NS if method == "ns" else cv2.INPAINT_TELEA)


def xphoto_fill(gray: np.ndarray, mask: np.ndarray, algorithm: str = "INPAINT_FSR_FAST") -> np.ndarray:
    """uint8 (H, W) gray with its hole (`mask` > 0) filled by opencv-contrib's `cv2.xphoto.inpaint`
    with the named `algorithm` (INPAINT_FSR_FAST, INPAINT_FSR_BEST or INPAINT_SHIFTMAP, which needs
    three channels); other pixels unchanged. `benchmarks/fills.py` compares the ones not offered."""
    if not hasattr(cv2, "xphoto"):
        raise RuntimeError(
            "fill 'fsr' needs opencv-contrib (cv2.xphoto), but this cv2 has none: pip uninstall opencv-python "
            "opencv-python-headless, then pip install opencv-contrib-python-headless==5.0.0.93 (or use --fill ns)"
        )
    hole = mask > 0
    single = gray.ndim == 2
    src = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR) if algorithm == "INPAINT_SHIFTMAP" and single else gray
    out = np.empty_like(src)
    cv2.xphoto.inpaint(src, (~hole).astype(np.uint8), out, getattr(cv2.xphoto, algorithm))  # its mask marks the known pixels
    if single:
        return np.where(hole, out if out.ndim == 2 else out[..., 0], gray)
    return np.where(hole[..., None], out, gray)


def classical_fill(gray: torch.Tensor, mask: torch.Tensor, method: str = "ns", radius: int = 3) -> torch.Tensor:
    """(B, 1, H, W) gray in [0, 1] and its damage (> 0.5 = lost) -> the same with each hole filled by
    `classical_fill_image` (on the 8-bit values, as the photo was read)."""
    grays = gray.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()[:, 0]
    holes = (mask.detach() > 0.5).cpu().numpy()[:, 0]
    filled = np.stack([classical_fill_image(g, h, method, radius) for g, h in zip(grays, holes)])
    return torch.from_numpy(filled).to(gray.device, gray.dtype).div(255).unsqueeze(1)
