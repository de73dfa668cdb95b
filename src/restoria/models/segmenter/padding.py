"""Running a segmenter's U-Net on any size: the multiple its depth needs, read from its config, and the
reflect padding to it. Apart from the network's module, so inference on onnxruntime needs no smp."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

DECODER_CHANNELS = (256, 128, 64, 32, 16)


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
