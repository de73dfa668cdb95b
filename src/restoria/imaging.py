"""Array <-> tensor conversions shared by training and inference (no Lightning here): gray, [0, 1] floats, uint8."""

from __future__ import annotations

import cv2
import numpy as np
import torch


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma, exactly as OpenCV (and the competition) turns colour photos gray."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def scaled(img: np.ndarray, factor: float) -> np.ndarray:
    """An image (H, W) or (H, W, C) scaled by `factor` (< 1 to shrink; area averaging), at least 1 px a side."""
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) or (H, W, C) -> float (C, H, W) in [0, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(img)).float().div_(255.0)
    return t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)


def to_uint8(t: torch.Tensor) -> np.ndarray:
    """float (C, H, W) in [0, 1] -> uint8 (H, W) for one channel or (H, W, C), rounded as a writer would."""
    a = t.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()
    return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
