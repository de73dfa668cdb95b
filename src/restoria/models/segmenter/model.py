"""The damage segmenter: a U-Net that maps a photo to one mask logit per pixel.

The source project's network was a U-Net with an ImageNet MobileNetV2 encoder and pix2pix upsampling
blocks (transposed convolution, batch norm, ReLU); here smp's U-Net decoder (upsample + two
convolutions per stage) takes their place, and any smp encoder can be named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from restoria.models.unet import build_unet

DECODER_CHANNELS = (256, 128, 64, 32, 16)


def build_segmenter(
    encoder: str = "mobilenet_v2",
    encoder_weights: str | None = None,
    in_channels: int = 1,
    classes: int = 1,
    decoder_channels: tuple[int, ...] | list[int] = DECODER_CHANNELS,
) -> nn.Module:
    """A U-Net returning raw logits (B, classes, H, W); H and W must be multiples of 2**len(decoder_channels)."""
    return build_unet(encoder, encoder_weights, in_channels, classes, tuple(decoder_channels))


def side_multiple(cfg: dict[str, Any]) -> int:
    """What a segmenter's input sides must be multiples of, from its model config: 2 ** its depth."""
    return 2 ** len(cfg.get("decoder_channels", DECODER_CHANNELS))


def run_padded(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Run a U-Net (torch or its ONNX twin) on an image of any size: reflect-pad to `multiple`, crop back."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if not (ph or pw):
        return fn(x)
    mode = "reflect" if ph < h and pw < w else "replicate"
    return fn(F.pad(x, (0, pw, 0, ph), mode=mode))[..., :h, :w]


def segment_logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run a U-Net on an image of any size: reflect-pad to the multiple its depth needs, crop back."""
    return run_padded(net, x, 2 ** len(net.decoder.blocks))
