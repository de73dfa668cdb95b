"""SRGAN's perceptual (VGG) loss, from VGG19 weights the user already has on disk.

Nothing is downloaded: torchvision builds an untrained VGG19 and the given file (a torchvision VGG19
state dict, .pth or .safetensors) fills it. Without such a file the SR task trains with pixel and
adversarial losses only.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from restoria.io import InputError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
VGG54 = 36  # torchvision vgg19.features[:36]: up to conv5_4 + ReLU, before the last max-pool (SRGAN's phi_5,4)


def load_vgg19_state(path: str | Path) -> dict[str, torch.Tensor]:
    p = Path(path)
    if not p.exists():
        raise InputError(p, "VGG19 weights file not found")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(p))
    return torch.load(p, map_location="cpu", weights_only=True)


class VGGFeatureLoss(nn.Module):
    """MSE between VGG19 feature maps of prediction and target (inputs in [0, 1], ImageNet-normalised).
    The network is frozen and stays in eval mode."""

    def __init__(self, weights: str | Path, layers: int = VGG54) -> None:
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        features = make_layers(cfgs["E"])  # VGG19's convolutional part: the dense head is never used
        state = {k.removeprefix("features."): v for k, v in load_vgg19_state(weights).items() if k.startswith("features.")}
        try:
            features.load_state_dict(state)
        except RuntimeError as exc:
            raise InputError(weights, f"not a torchvision VGG19 state dict ({str(exc).splitlines()[0]})") from None
        self.features = features[:layers].eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> VGGFeatureLoss:
        return super().train(False)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features((x - self.mean) / self.std)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self.embed(pred), self.embed(target).detach())
