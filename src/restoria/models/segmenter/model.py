"""The damage segmenter: a U-Net that maps a photo to one mask logit per pixel.

The source project's network was a U-Net with an ImageNet MobileNetV2 encoder and pix2pix upsampling
blocks (transposed convolution, batch norm, ReLU); here smp's U-Net decoder (upsample + two
convolutions per stage) takes their place, and any smp encoder can be named.
"""

from __future__ import annotations

from torch import nn

from restoria.models.segmenter.padding import DECODER_CHANNELS
from restoria.models.unet import build_unet


def build_segmenter(
    encoder: str = "mobilenet_v2",
    encoder_weights: str | None = None,
    in_channels: int = 1,
    classes: int = 1,
    decoder_channels: tuple[int, ...] | list[int] = DECODER_CHANNELS,
) -> nn.Module:
    """A U-Net returning raw logits (B, classes, H, W); H and W must be multiples of 2**len(decoder_channels)."""
    return build_unet(encoder, encoder_weights, in_channels, classes, tuple(decoder_channels))
