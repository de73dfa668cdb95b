"""SRResNet and the SRGAN discriminator: output sizes, the bicubic start, any crop size for D."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from restoria.models import create_model
from restoria.models.srresnet import SRGANDiscriminator, SRResNet


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_pixel_shuffle_multiplies_the_size(scale: int, batch_norm: bool) -> None:
    net = SRResNet(scale=scale, channels=8, n_blocks=2, batch_norm=batch_norm).eval()
    shuffles = [m.upscale_factor for m in net.modules() if isinstance(m, torch.nn.PixelShuffle)]
    assert shuffles == ([3] if scale == 3 else [2] * (scale // 2))
    with torch.no_grad():
        assert net(torch.rand(2, 3, 17, 23)).shape == (2, 3, 17 * scale, 23 * scale)


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="model.scale"):
        SRResNet(scale=5)


def test_bicubic_skip_starts_at_bicubic_and_learns_a_residual() -> None:
    torch.manual_seed(0)
    net = create_model("srresnet", scale=2, channels=8, n_blocks=2, batch_norm=False, bicubic_skip=True)
    x = torch.rand(1, 3, 16, 16)
    bicubic = F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    with torch.no_grad():
        assert (net(x) - bicubic).abs().max() < 0.05  # the residual branch starts near zero
        net.tail.bias.fill_(0.1)
        assert torch.allclose(net(x) - bicubic, torch.full_like(bicubic, 0.1), atol=0.05)


def test_icnr_upsampler_starts_without_checkerboard() -> None:
    """ICNR: the four sub-pixels of each 2x2 output cell come from the same kernel at init."""
    up = SRResNet(scale=2, channels=8, n_blocks=1).upsample
    with torch.no_grad():
        y = up[1](up[0](torch.rand(1, 8, 6, 6)))  # conv -> PixelShuffle, before the activation
    assert torch.equal(y[..., 0::2, 0::2], y[..., 1::2, 1::2]) and torch.equal(y[..., 0::2, 1::2], y[..., 1::2, 0::2])


@pytest.mark.parametrize("size", [64, 96])
def test_discriminator_gives_one_logit_per_image_at_any_crop_size(size: int) -> None:
    d = create_model("srgan_discriminator", base=8, stages=3, dense=16)
    assert isinstance(d, SRGANDiscriminator)
    strides = [m.stride[0] for m in d.features if isinstance(m, torch.nn.Conv2d)]
    assert strides == [1, 2, 1, 2, 1, 2]  # stride 2 halves the map once per width
    assert d(torch.rand(3, 3, size, size)).shape == (3, 1)
