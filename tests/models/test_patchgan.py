"""The PatchGAN's receptive field (70x70 with 3 layers, as in pix2pix) and its outputs per patch."""

from __future__ import annotations

import pytest
import torch

from restoria.models import create_model
from restoria.models.patchgan import PatchGAN


def receptive_field(net: torch.nn.Module, size: int, channels: int) -> tuple[int, int]:
    """Height and width of the input region that moves the centre output logit."""
    x = torch.randn(1, channels, size, size, requires_grad=True)
    out = net.eval()(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows, cols = (x.grad.abs().sum(1)[0] > 0).nonzero().unbind(1)
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_default_patchgan_judges_70x70_patches_of_a_256_image() -> None:
    net = PatchGAN(in_channels=4, base_channels=8)
    assert net(torch.zeros(2, 4, 256, 256)).shape == (2, 1, 30, 30)
    assert receptive_field(net, 128, 4) == (70, 70)


@pytest.mark.parametrize(("n_layers", "field"), [(1, 16), (2, 34)])
def test_fewer_layers_judge_smaller_patches(n_layers: int, field: int) -> None:
    # instance norm sees the whole image, so the patch size is measured without it
    assert receptive_field(PatchGAN(3, 4, n_layers, "none"), 64, 3) == (field, field)


def test_norm_choice_and_registry() -> None:
    net = create_model("patchgan", in_channels=3, base_channels=4, norm="none")
    assert not any(isinstance(m, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)) for m in net.modules())
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in PatchGAN(3, 4, norm="instance").modules())
    with pytest.raises(ValueError, match="norm"):
        PatchGAN(3, norm="group")
