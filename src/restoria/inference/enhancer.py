"""The enhance stage: grain measured and taken out where there is some (restoria.inference.grain), then
the trained enhancer over the whole photo (its levels: fading), between detect and fill, on torch or
on its onnxruntime twin.

It works on luma: a gray photo is enhanced as it is; a colour photo that keeps its colours gets the
luma correction added to each channel, so its chroma stays its own. A clean photo passes through
unchanged: when the network's correction averages less than `min_change` gray levels, the photo is
returned as it came (the model card gives the changes it makes to clean and to aged photos).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from restoria.imaging import to_gray, to_tensor
from restoria.inference.grain import GRAIN_SIGMA, take_out_grain
from restoria.inference.net import EnhancerNet
from restoria.inference.tiling import run_tiled
from restoria.models.enhancer.levels import VIEW, photo_view

# mean absolute correction, in gray levels, below which a photo is left alone: at 3, 90% of 30 clean
# held-out photos pass bit-exact and faded ones keep 5.49 of their 5.57 dB (benchmarks/damage.py --only enhance)
MIN_CHANGE = 3.0


class PhotoEnhancer:
    """The enhance stage: uint8 gray (H, W) or RGB (H, W, 3) in, the same shape out."""

    def __init__(
        self, weights: str | Path, device: str = "cpu", backend: str = "torch", tile: int | None = 1024, min_change: float = MIN_CHANGE,
        grain_sigma: float | None = GRAIN_SIGMA,
    ) -> None:
        """`backend` "onnx" runs the network on onnxruntime (`weights` may then be an exported `.onnx`);
        `grain_sigma` (the fine-grain gate, restoria.inference.grain) None leaves grain alone."""
        from restoria.inference.onnx_nets import OnnxEnhancer, load_net

        self.net: EnhancerNet = load_net(weights, backend, device, OnnxEnhancer)
        self.device, self.tile, self.min_change = device, tile, min_change
        self.last_change = 0.0  # the mean correction of the last photo, in gray levels
        self.grain_sigma = grain_sigma
        self.last_noise = 0.0  # the last photo's measured noise, in gray levels (0: no grain taken out)

    @torch.inference_mode()
    def correction(self, gray: np.ndarray, damage: np.ndarray | None = None) -> np.ndarray:
        """uint8 gray -> the network's luma correction (float32, gray levels). `damage` (>0): where the
        detect stage found damage, left out of the view the levels are read from."""
        x = to_tensor(gray)[None].to(self.device)
        view = self.view(x, damage) if self.net.meta["model"].get("levels") else None
        y = run_tiled(lambda t: self.net(t, view), x, self.tile)  # every tile gets the whole photo's levels
        return ((y - x)[0, 0].clamp(-1, 1) * 255).cpu().numpy()

    @staticmethod
    def view(x: torch.Tensor, damage: np.ndarray | None) -> torch.Tensor:
        """The whole photo's levels view, with any cell that holds damage filled from its neighbours
        (Telea): a lost region's flat value or a bright tear is not the print's black or white point."""
        view = photo_view(x, VIEW)
        if damage is None or not damage.any():
            return view
        cells = cv2.resize((damage > 0).astype(np.float32), (VIEW, VIEW), interpolation=cv2.INTER_AREA) > 0
        if cells.all():
            return view
        v = (view[0, 0].clamp(0, 1) * 255).round().byte().cpu().numpy()
        filled = cv2.inpaint(v, cells.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        return torch.from_numpy(filled).float().div(255)[None, None].to(view.device)

    def __call__(self, image: np.ndarray, damage: np.ndarray | None = None) -> np.ndarray:
        """`damage` (>0): the detect stage's mask, left out of what the levels are read from. Grain
        goes first (restoria.inference.grain), when the photo measures noisier than `grain_sigma`."""
        gray = image if image.ndim == 2 else to_gray(image)
        self.last_noise = 0.0
        if self.grain_sigma is not None:
            image, self.last_noise = take_out_grain(image, gray, self.grain_sigma)
            gray = image if image.ndim == 2 else to_gray(image)
        delta = self.correction(gray, damage)
        self.last_change = float(np.abs(delta).mean())
        if self.last_change < self.min_change:
            return image
        out = image.astype(np.float32) + (delta if image.ndim == 2 else delta[..., None])
        return np.clip(out, 0, 255).round().astype(np.uint8)

    @property
    def removed_grain(self) -> bool:
        """Whether the last photo was denoised."""
        return self.last_noise > 0
