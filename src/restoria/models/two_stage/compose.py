"""The colorizer's output over the photo's gray -> RGB. Apart from the network's module, so its
onnxruntime twin renders colour without importing segmentation_models_pytorch."""

from __future__ import annotations

import torch
from kornia.color import ycbcr_to_rgb


def compose_rgb(
    gray: torch.Tensor, color: torch.Tensor, color_space: str, gain: float = 1.0, bias: tuple[float, float] = (0.0, 0.0)
) -> torch.Tensor:
    """Gray + the colorizer's output -> RGB in [0, 1]. In YCbCr the chroma is scaled by `gain` and
    shifted by `bias` (Cb, Cr), both calibrated on validation photos after training, and the luma is
    the gray itself."""
    if color_space == "rgb":
        return color
    shift = torch.tensor(bias, dtype=color.dtype, device=color.device).view(1, 2, 1, 1)
    return ycbcr_to_rgb(torch.cat([gray, 0.5 + shift + gain * color], dim=1)).clamp(0, 1)
