"""Bringing images (and their masks) to a network's input size, on tensors, for the detector datasets.

`crop` keeps the photo's pixel scale (a lost region's hard edge and flat fill stay exactly as they are
at inference); `resize` squashes the whole photo to a square, as the source projects did (Keras
`image.resize` / `flow_from_directory`); `full` leaves the image as it is.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

FIT_MODES = ("crop", "resize", "full")
LUMA = (0.299, 0.587, 0.114)  # BT.601, as data.to_gray


def resize(t: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(C, H, W) float -> (C, height, width): area averaging to shrink (no aliasing), bilinear to grow."""
    if t.shape[-2:] == (height, width):
        return t
    mode = "area" if height <= t.shape[-2] and width <= t.shape[-1] else "bilinear"
    kwargs = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(t[None], size=(height, width), mode=mode, **kwargs)[0]


def binarize(mask: torch.Tensor) -> torch.Tensor:
    """Any mask -> {0, 1}: divided by its max as the source project did, then thresholded at 0.5, so
    0/1, 0/255 and anti-aliased masks all work; an all-zero mask stays empty."""
    top = mask.max()
    return (mask / top > 0.5).to(mask.dtype) if top > 0 else torch.zeros_like(mask)


def to_channels(t: torch.Tensor, channels: int) -> torch.Tensor:
    """(C, H, W) -> `channels` channels: gray repeated to RGB, or RGB to BT.601 luma."""
    if t.shape[0] == channels:
        return t
    if t.shape[0] == 1 and channels == 3:
        return t.expand(3, -1, -1).clone()
    if t.shape[0] == 3 and channels == 1:
        return (t * t.new_tensor(LUMA)[:, None, None]).sum(0, keepdim=True)
    raise ValueError(f"cannot turn {t.shape[0]} channels into {channels}")


def fit(
    image: torch.Tensor,
    mask: torch.Tensor | None,
    size: int,
    mode: str,
    rng: np.random.Generator | None,
    flip: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Bring (C, H, W) image and (1, H, W) mask to `size` x `size` the same way.

    crop: photos smaller than `size` are first scaled up; the crop is random with `rng`, central without.
    A random horizontal flip (p = 0.5) is drawn only with `rng` and `flip`. Masks stay binary.
    """
    if mode not in FIT_MODES:
        raise ValueError(f"fit must be one of {', '.join(FIT_MODES)}, got {mode!r}")
    h, w = image.shape[-2:]
    if mode == "resize":
        image, mask = resize(image, size, size), None if mask is None else resize(mask, size, size)
    elif mode == "crop":
        if min(h, w) < size:
            scale = size / min(h, w)
            h, w = max(size, round(h * scale)), max(size, round(w * scale))
            image, mask = resize(image, h, w), None if mask is None else resize(mask, h, w)
        y = int(rng.integers(0, h - size + 1)) if rng is not None else (h - size) // 2
        x = int(rng.integers(0, w - size + 1)) if rng is not None else (w - size) // 2
        image = image[:, y : y + size, x : x + size]
        mask = None if mask is None else mask[:, y : y + size, x : x + size]
    if rng is not None and flip and rng.random() < 0.5:
        image, mask = image.flip(-1), None if mask is None else mask.flip(-1)
    if mask is not None and mode != "full":
        mask = (mask > 0.5).to(mask.dtype)
    return image.contiguous(), None if mask is None else mask.contiguous()


def sample_rng() -> np.random.Generator:
    """A generator seeded from torch's RNG, so `seed_everything` and each DataLoader worker govern it."""
    return np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
