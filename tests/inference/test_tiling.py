"""Tile placement: every pixel covered, neighbours overlapping by at least the blend width, and few
wasted pixels on large photos (the 4000x3000 slowdown was tiles far larger than needed)."""

from __future__ import annotations

import pytest
import torch

from restoria.inference.tiling import MULTIPLE, run_tiled, tile_starts


@pytest.mark.parametrize("n", [100, 1024, 1025, 1500, 2049, 3000, 4000, 6000])
@pytest.mark.parametrize("tile,overlap", [(1024, 64), (256, 24), (512, 64)])
def test_tiles_cover_the_side_and_overlap(n: int, tile: int, overlap: int) -> None:
    starts, length = tile_starts(n, tile, overlap)
    assert length <= max(tile, n if n <= tile else 0) and starts[0] == 0 and starts[-1] + length == n
    assert all(b - a <= length - overlap for a, b in zip(starts, starts[1:]))  # overlap >= the blend width
    if n > tile:
        assert length % MULTIPLE == 0
        assert len(starts) == -(-(n - overlap) // (tile - overlap))  # no more tiles than needed


def test_a_4000x3000_photo_costs_little_more_than_its_pixels() -> None:
    (ys, th), (xs, tw) = tile_starts(3000, 1024, 64), tile_starts(4000, 1024, 64)
    assert len(ys) * th * len(xs) * tw < 1.2 * 3000 * 4000  # fixed 1024 steps cost 1.75x


def test_tiling_of_a_pointwise_function_is_exact_on_uneven_sides() -> None:
    x = torch.rand(1, 2, 1100, 700)
    torch.testing.assert_close(run_tiled(lambda t: t * 3 - 1, x, tile=256, overlap=24), x * 3 - 1)
