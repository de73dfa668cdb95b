"""U-Net construction on segmentation_models_pytorch, with pretrained encoders only when they can be had."""

from __future__ import annotations

import logging
from pathlib import Path

import segmentation_models_pytorch as smp
import torch
from torch import nn

log = logging.getLogger(__name__)


def build_unet(
    encoder: str,
    encoder_weights: str | None,
    in_channels: int,
    classes: int,
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
) -> nn.Module:
    """An smp.Unet. `encoder_weights` is None (random init), a name smp knows such as "imagenet"
    (downloaded by smp, so it needs internet), or a path to a local state-dict file for the encoder.
    """
    decoder_channels = tuple(decoder_channels)
    local = encoder_weights is not None and Path(encoder_weights).suffix in {".pth", ".pt", ".safetensors", ".bin"}
    model = smp.Unet(
        encoder_name=encoder,
        encoder_weights=None if local or encoder_weights is None else encoder_weights,
        in_channels=in_channels,
        classes=classes,
        encoder_depth=len(decoder_channels),
        decoder_channels=decoder_channels,
    )
    if local:
        load_encoder_weights(model.encoder, Path(encoder_weights), in_channels)
    return model


def load_encoder_weights(encoder: nn.Module, path: Path, in_channels: int) -> None:
    """Load encoder weights from a local file (e.g. torchvision's resnet34 download, or a whole trained
    U-Net of this project, whose `encoder.` tensors are taken), adapting the first convolution to
    `in_channels` the way smp does (sum over RGB for one channel)."""
    if not path.exists() and not path.is_absolute():  # the name of a weights file shipped in the package
        from restoria.weights import default_weights  # here: restoria.weights imports the models

        shipped = default_weights(path.name)
        path = shipped if shipped.exists() else path
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    own = encoder.state_dict()
    if not own.keys() & state.keys() and any(k.startswith("encoder.") for k in state):
        state = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}  # a whole U-Net
    for key, value in list(state.items()):
        if key in own and value.ndim == 4 and own[key].shape[1] != value.shape[1] and value.shape[1] == 3:
            state[key] = value.sum(1, keepdim=True) if in_channels == 1 else value
    state = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    missing = set(own) - set(state)
    encoder.load_state_dict(state, strict=False)
    log.info("loaded %d encoder tensors from %s (%d left at init)", len(state), path, len(missing))
