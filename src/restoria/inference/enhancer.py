"""The enhance stage: the trained enhancer over a whole photo (grain, blur, JPEG blocks and fading out),
between detect and fill, on torch or on its onnxruntime twin.

It works on luma: a gray photo is enhanced as it is; a colour photo that keeps its colours gets the
luma correction added to each channel, so its chroma stays its own. A clean photo passes through
unchanged: when the network's correction averages less than `min_change` gray levels, the photo is
returned as it came (the model card gives the changes it makes to clean and to aged photos).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from restoria.imaging import to_gray, to_tensor
from restoria.inference.net import EnhancerNet
from restoria.inference.tiling import run_tiled
from restoria.models.enhancer.levels import VIEW, photo_view

MIN_CHANGE = 1.0  # mean absolute correction, in gray levels, below which a photo is left alone


class PhotoEnhancer:
    """The enhance stage: uint8 gray (H, W) or RGB (H, W, 3) in, the same shape out."""

    def __init__(self, weights: str | Path, device: str = "cpu", backend: str = "torch", tile: int | None = 1024, min_change: float = MIN_CHANGE) -> None:
        """`backend` "onnx" runs the network on onnxruntime (`weights` may then be an exported `.onnx`)."""
        from restoria.inference.onnx_nets import OnnxEnhancer, load_net

        self.net: EnhancerNet = load_net(weights, backend, device, OnnxEnhancer)
        self.device, self.tile, self.min_change = device, tile, min_change
        self.last_change = 0.0  # the mean correction of the last photo, in gray levels

    @torch.inference_mode()
    def correction(self, gray: np.ndarray) -> np.ndarray:
        """uint8 gray -> the network's luma correction (float32, gray levels)."""
        x = to_tensor(gray)[None].to(self.device)
        side = VIEW if self.net.meta["model"].get("levels") else 0
        view = photo_view(x, side) if side else None  # every tile gets the whole photo's levels
        y = run_tiled(lambda t: self.net(t, view), x, self.tile)
        return ((y - x)[0, 0].clamp(-1, 1) * 255).cpu().numpy()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        gray = image if image.ndim == 2 else to_gray(image)
        delta = self.correction(gray)
        self.last_change = float(np.abs(delta).mean())
        if self.last_change < self.min_change:
            return image
        out = image.astype(np.float32) + (delta if image.ndim == 2 else delta[..., None])
        return np.clip(out, 0, 255).round().astype(np.uint8)
