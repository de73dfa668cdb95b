"""The enhancer: a small U-Net that takes grain, blur, JPEG blocks and fading out of a whole photo.

It predicts a correction added to its input (a clean photo needs none, so identity is the easy answer),
and a full-resolution head sees the input pixels beside the decoder's features: smp's U-Net has no
skip at full resolution, and grain and JPEG ringing live at exactly that scale. The default encoder,
timm's MobileNetV3-Small-minimal, keeps the shipped file under 2 MB; fading needs the U-Net's deep,
wide view (a print's black and white points are global).

With `levels` the photo's luma first goes through one gain and offset read from a view of the whole
photo (`restoria.models.enhancer.levels`), and the U-Net corrects what is left: grain, blur, JPEG.
"""

from __future__ import annotations

import torch
from torch import nn

from restoria.models.enhancer.levels import Levels, photo_view
from restoria.models.unet import build_unet

DECODER_CHANNELS = (64, 48, 32, 24, 16)


class Enhancer(nn.Module):
    """(B, C, H, W) in [0, 1] -> the enhanced photo, same shape; H and W multiples of `multiple`."""

    def __init__(
        self,
        encoder: str = "timm-mobilenetv3_small_minimal_100",
        encoder_weights: str | None = None,
        in_channels: int = 1,
        decoder_channels: tuple[int, ...] | list[int] = DECODER_CHANNELS,
        head_channels: int = 16,
        levels: bool = False,
        local: bool = True,
    ) -> None:
        """`levels`: the global path that fixes each photo's black and white points (fading); it reads
        luma, so it needs `in_channels` 1. `local` False leaves the U-Net out: the levels path alone
        (the shipped enhancer; the model card has the measurement that chose it)."""
        super().__init__()
        if levels and in_channels != 1:
            raise ValueError(f"the levels path reads luma: in_channels must be 1, got {in_channels}")
        if not (levels or local):
            raise ValueError("an enhancer needs its levels path, its local U-Net, or both")
        self.unet: nn.Module | None = None
        self.head: nn.Sequential | None = None
        if local:
            self.unet = build_unet(encoder, encoder_weights, in_channels, head_channels, tuple(decoder_channels))
            self.head = nn.Sequential(
                nn.Conv2d(head_channels + in_channels, head_channels, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(head_channels, in_channels, 3, padding=1),
            )
            nn.init.zeros_(self.head[-1].weight)  # start as the identity
            nn.init.zeros_(self.head[-1].bias)
        self.multiple = 2 ** len(decoder_channels) if local else 1
        self.levels = Levels() if levels else None

    def forward(self, x: torch.Tensor, view: torch.Tensor | None = None) -> torch.Tensor:
        """`view`: the whole photo's `photo_view` when `x` is one tile of it (else taken from `x`)."""
        if self.levels is not None:
            gain, offset = self.levels(photo_view(x) if view is None else view)
            x = x * gain + offset
        if self.unet is None or self.head is None:
            return x
        features = torch.relu(self.unet(x))
        return x + self.head(torch.cat([features, x], 1))
