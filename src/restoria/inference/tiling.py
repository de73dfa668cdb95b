"""Running a network on a photo of any size: reflect-padded tiles with overlap, blended with smooth weights,
and mirror / rotation test-time augmentation.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

MULTIPLE = 32  # U-Net encoders downsample 5 times


def _pad(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    h, w = x.shape[-2:]
    ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


def _blend_window(h: int, w: int, overlap: int) -> torch.Tensor:
    """Weights that fall linearly to ~0 over `overlap` pixels at each tile edge."""

    def ramp(n: int) -> torch.Tensor:
        r = torch.ones(n)
        k = min(overlap, n // 2)
        if k > 0:
            edge = torch.linspace(1.0 / (k + 1), 1.0, k)
            r[:k], r[n - k :] = edge, edge.flip(0)
        return r

    return ramp(h)[:, None] * ramp(w)[None, :]


def tile_starts(n: int, tile: int, overlap: int) -> tuple[list[int], int]:
    """Where tiles start along a side of `n` pixels, and their common length: the fewest tiles of at most
    `tile` pixels that overlap by at least `overlap`, all of one length (a multiple of MULTIPLE where it
    fits), spread evenly. Why: fixed `tile`-sized steps with a last tile pushed back to the edge made a
    4000x3000 photo cost 20 tiles of 1024x1024 (1.75x its pixels); even tiles of 800x864 cost 1.15x."""
    if n <= tile:
        return [0], n
    count = -(-(n - overlap) // (tile - overlap))
    length = -(-(n + (count - 1) * overlap) // count)
    length = min(tile, -(-length // MULTIPLE) * MULTIPLE) if tile >= MULTIPLE else length
    step = (n - length) / (count - 1)
    return [round(i * step) for i in range(count)], length


def run_tiled(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int | None, overlap: int = 64, scale: int = 1
) -> torch.Tensor:
    """Apply a network `fn` to (1, C, H, W) `x`, on tiles when the image exceeds `tile`. `fn` keeps the
    size, or multiplies it by `scale` (super-resolution): tiles are placed and blended at the output scale."""
    h, w = x.shape[-2:]
    if tile is None or (h <= tile and w <= tile):
        padded, (h0, w0) = _pad(x)
        return fn(padded)[..., : h0 * scale, : w0 * scale]
    tile = max(tile, 2 * overlap + MULTIPLE)
    ys, th = tile_starts(h, tile, overlap)
    xs, tw = tile_starts(w, tile, overlap)
    s = scale
    out: torch.Tensor | None = None
    weight = torch.zeros(1, 1, h * s, w * s, device=x.device)
    for y in ys:
        for xx in xs:
            patch = x[..., y : y + th, xx : xx + tw]
            padded, (ph, pw) = _pad(patch)
            res = fn(padded)[..., : ph * s, : pw * s]
            win = _blend_window(ph * s, pw * s, overlap * s).to(x.device)[None, None]
            if out is None:
                out = torch.zeros(1, res.shape[1], h * s, w * s, device=x.device, dtype=res.dtype)
            out[..., y * s : (y + ph) * s, xx * s : (xx + pw) * s] += res * win
            weight[..., y * s : (y + ph) * s, xx * s : (xx + pw) * s] += win
    assert out is not None
    return out / weight


# The dihedral views of a photo as (forward, back) pairs: identity, the mirrors, then their transposes
# (the 90-degree rotations and the diagonal mirrors). `views` n averages the first n.
_Views = list[tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]]
_MIRRORS: _Views = [
    (lambda t: t, lambda t: t),
    (lambda t: t.flip(-1), lambda t: t.flip(-1)),
    (lambda t: t.flip(-2), lambda t: t.flip(-2)),
    (lambda t: t.flip(-2, -1), lambda t: t.flip(-2, -1)),
]
DIHEDRAL: _Views = _MIRRORS + [(lambda t, f=f: f(t.transpose(-2, -1)), lambda t, b=b: b(t).transpose(-2, -1)) for f, b in _MIRRORS]
VIEWS = (1, 2, 4, 8)


def check_views(views: int) -> int:
    """`views` when it is a count `dihedral_tta` takes, else a ValueError that says which are."""
    if views not in VIEWS:
        raise ValueError(f"views must be one of {VIEWS}, got {views}")
    return views


def dihedral_tta(fn: Callable[[torch.Tensor], torch.Tensor], views: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """`fn` averaged over `views` (1, 2, 4 or 8) mirrored and rotated copies of its input, each turned back.
    Why: damage has no orientation, so a detector's view-dependent mistakes (a speck read as dust from one
    side only) average out while what it finds from every side stays."""
    if check_views(views) == 1:
        return fn
    return lambda x: sum(back(fn(forward(x))) for forward, back in DIHEDRAL[:views]) / views


def flip_tta(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """`fn` averaged with its run on the mirrored input, mirrored back (horizontal-flip test-time augmentation)."""
    return dihedral_tta(fn, 2)
