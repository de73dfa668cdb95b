"""The VGG perceptual loss loads only a local weights file and measures feature distance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.models.vgg import cfgs, make_layers

from restoria.imaging import to_tensor
from restoria.io import InputError
from restoria.perceptual import VGGFeatureLoss


def test_vgg_loss_from_a_local_file(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    torch.manual_seed(0)
    path = tmp_path / "vgg19.pth"
    torch.save({f"features.{k}": v for k, v in make_layers(cfgs["E"]).state_dict().items()}, path)  # as in vgg19().state_dict()
    loss = VGGFeatureLoss(path, layers=4)  # up to conv1_2 + ReLU keeps the test light
    assert not any(p.requires_grad for p in loss.parameters())
    x = to_tensor(photos["astronaut"][:64, :64])[None]
    assert float(loss(x, x)) == 0.0
    assert float(loss(x, x.flip(-1))) > 0.0
    with pytest.raises(InputError, match="not found"):
        VGGFeatureLoss(tmp_path / "missing.pth")
    torch.save({"junk": torch.zeros(1)}, tmp_path / "junk.pth")
    with pytest.raises(InputError, match="not a torchvision VGG19"):
        VGGFeatureLoss(tmp_path / "junk.pth")
