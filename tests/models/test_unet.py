"""Encoder weights come from a local file when the user has one; nothing is downloaded by default."""

from __future__ import annotations

from pathlib import Path

import torch

from restoria.models.unet import build_unet


def test_local_encoder_weights_are_loaded(tmp_path: Path) -> None:
    torch.manual_seed(0)
    donor = build_unet("resnet18", None, 3, 1, (16, 16, 16, 16, 16)).encoder
    path = tmp_path / "resnet18.pth"
    torch.save(donor.state_dict(), path)
    model = build_unet("resnet18", str(path), 1, 2, (16, 16, 16, 16, 16))
    got = model.encoder.state_dict()
    torch.testing.assert_close(got["layer3.0.conv1.weight"], donor.state_dict()["layer3.0.conv1.weight"])
    # RGB first convolution folded to one gray channel by summing over colours
    torch.testing.assert_close(got["conv1.weight"], donor.state_dict()["conv1.weight"].sum(1, keepdim=True))


def test_default_is_random_init_offline() -> None:
    a = build_unet("resnet18", None, 1, 1, (16, 16, 16, 16, 16))
    b = build_unet("resnet18", None, 1, 1, (16, 16, 16, 16, 16))
    assert not torch.equal(a.encoder.conv1.weight, b.encoder.conv1.weight)
