"""Crops, resizes and flips move an image and its mask together; masks stay binary."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restoria.data.transforms import binarize, fit, to_channels
from restoria.imaging import to_gray, to_tensor


def test_random_crop_and_flip_keep_the_mask_aligned(photos: dict[str, np.ndarray]) -> None:
    image = to_tensor(to_gray(photos["chelsea"]))
    mask = (image > 0.5).float()  # a mask that is a function of its image
    rng = np.random.default_rng(0)
    flipped = 0
    for _ in range(8):
        state = rng.bit_generator.state
        x, m = fit(image, mask, 96, "crop", rng, flip=True)
        assert x.shape == (1, 96, 96) and m.shape == (1, 96, 96)
        assert torch.equal(m, (x > 0.5).float())
        rng_again = np.random.default_rng()
        rng_again.bit_generator.state = state
        plain, _ = fit(image, mask, 96, "crop", rng_again, flip=False)
        flipped += int(not torch.equal(x, plain))
    assert 0 < flipped < 8  # flips happen, not always


def test_resize_and_centre_crop(photos: dict[str, np.ndarray]) -> None:
    image = to_tensor(photos["astronaut"])  # 512 x 512 RGB
    mask = (image[:1] > 0.5).float()
    x, m = fit(image, mask, 64, "resize", None)
    assert x.shape == (3, 64, 64) and set(m.unique().tolist()) <= {0.0, 1.0}
    assert float((m == (x.mean(0, keepdim=True) > 0.5).float()).float().mean()) > 0.8
    small = image[:, :40, :50]
    x, m = fit(small, mask[:, :40, :50], 64, "crop", None)  # scaled up to cover the crop, then centred
    assert x.shape == (3, 64, 64) and m.shape == (1, 64, 64)
    a, _ = fit(image, None, 100, "crop", None)
    b, _ = fit(image, None, 100, "crop", None)
    assert torch.equal(a, b) and torch.equal(a, image[:, 206:306, 206:306])
    with pytest.raises(ValueError, match="fit must be"):
        fit(image, None, 64, "stretch", None)


def test_binarize_and_channels() -> None:
    for top in (1.0, 255.0, 3.0):
        m = torch.tensor([[[0.0, top, top / 4]]])
        assert binarize(m).tolist() == [[[0.0, 1.0, 0.0]]]
    assert binarize(torch.zeros(1, 2, 2)).sum() == 0
    gray = torch.rand(1, 4, 4)
    torch.testing.assert_close(to_channels(to_channels(gray, 3), 1), gray)
    rgb = torch.rand(3, 4, 4)
    torch.testing.assert_close(to_channels(rgb, 1)[0], 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])
