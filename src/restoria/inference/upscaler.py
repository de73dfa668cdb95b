"""The super-resolution stage: a trained SR model over overlapping tiles, so memory stays bounded at any size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from restoria.imaging import to_tensor, to_uint8
from restoria.inference.net import UpscalerNet
from restoria.inference.onnx_nets import OnnxUpscaler, load_net
from restoria.inference.tiling import run_tiled
from restoria.io import InputError
from restoria.weights import default_weights


class Upscaler:
    """The super-resolution stage: an SR model (the shipped `sr_x{scale}` weights unless `weights` names
    others) on overlapping tiles of `tile` input pixels, so memory stays bounded at any size.
    uint8 RGB (or gray) in, `scale` times larger uint8 out (gray stays gray). `backend` "onnx" runs the
    model on onnxruntime (`weights` may then be an exported `.onnx`)."""

    def __init__(
        self,
        scale: int,
        weights: str | Path | None = None,
        device: str = "cpu",
        tile: int | None = 256,
        overlap: int = 24,
        backend: str = "torch",
    ) -> None:
        path = Path(weights) if weights else default_weights(f"sr_x{scale}.safetensors")
        if not path.exists():
            raise InputError(path, f"no x{scale} super-resolution weights (shipped: {', '.join(shipped_sr_scales()) or 'none'}; or pass trained ones)")
        self.model: UpscalerNet = load_net(path, backend, device, OnnxUpscaler)
        found = getattr(self.model, "scale", None)
        if found != scale:
            raise InputError(path, f"is a x{found} super-resolution model; upscaling x{scale} needs a x{scale} one" if found else "not a super-resolution model")
        self.scale, self.device, self.tile, self.overlap = scale, device, tile, overlap

    @torch.inference_mode()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        x = to_tensor(image)[None].to(self.device)
        gray = x.shape[1] == 1
        y = run_tiled(self.model, x.expand(-1, 3, -1, -1) if gray else x, self.tile, self.overlap, self.scale)
        out = to_uint8(y[0])
        return cv2.cvtColor(out, cv2.COLOR_RGB2GRAY) if gray else out


def shipped_sr_scales() -> list[str]:
    return [f"x{s}" for s in (2, 3, 4, 8) if default_weights(f"sr_x{s}.safetensors").exists()]
