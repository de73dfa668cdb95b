"""The CycleGAN generators: shapes, range, and the multiple-of-4 rule."""

from __future__ import annotations

import pytest
import torch

from restoria.models import create_model


def test_generators_keep_the_size_and_range() -> None:
    net = create_model("cyclegan", channels_a=1, channels_b=3, base_channels=8, n_blocks=2).eval()
    a = torch.rand(2, 1, 36, 52)
    with torch.no_grad():
        b = net(a)
        back = net.b_to_a(b * 2 - 1)
    assert b.shape == (2, 3, 36, 52) and 0 <= b.min() and b.max() <= 1
    assert back.shape == (2, 1, 36, 52) and -1 <= back.min() and back.max() <= 1


def test_size_must_be_a_multiple_of_four() -> None:
    net = create_model("cyclegan", base_channels=8, n_blocks=1)
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.rand(1, 3, 30, 32))
