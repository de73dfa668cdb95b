"""Tile placement: every pixel covered, neighbours overlapping by at least the blend width, and few
wasted pixels on large photos (the 4000x3000 slowdown was tiles far larger than needed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from restoria.inference.tiling import MULTIPLE, VIEWS, dihedral_tta, run_tiled, tile_starts


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


@pytest.mark.parametrize("views", [1, 2, 4, 8])
def test_each_view_is_turned_back_on_an_uneven_photo(views: int) -> None:
    """The identity averaged over any number of views is the input again, on a non-square photo (the
    transposed views swap its sides and must swap them back)."""
    x = torch.rand(1, 2, 40, 72)
    torch.testing.assert_close(dihedral_tta(lambda t: t, views)(x), x)


def test_dihedral_views_average_out_what_depends_on_orientation() -> None:
    """A filter with all eight symmetries of the square is unchanged by any views. A mirror-symmetric
    one (the same left and right, not up and down) is unchanged by 2, not by 4; averaged over 8 views
    its result is what the filter averaged over the eight turned kernels gives."""
    x = torch.rand(1, 1, 48, 64)
    square = torch.tensor([[1.0, 2.0, 1.0], [2.0, -4.0, 2.0], [1.0, 2.0, 1.0]])
    mirror = torch.tensor([[1.0, 3.0, 1.0], [0.0, 0.5, 0.0], [-2.0, 0.0, -2.0]])

    def conv(k: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        return lambda t: torch.nn.functional.conv2d(t, k[None, None], padding=1)

    for views in VIEWS:
        torch.testing.assert_close(dihedral_tta(conv(square), views)(x), conv(square)(x))
    torch.testing.assert_close(dihedral_tta(conv(mirror), 2)(x), conv(mirror)(x))
    assert not torch.allclose(dihedral_tta(conv(mirror), 4)(x), conv(mirror)(x))
    turned = [mirror, mirror.flip(1), mirror.flip(0), mirror.flip(0, 1)]
    turned += [k.T for k in turned]
    torch.testing.assert_close(dihedral_tta(conv(mirror), 8)(x), conv(torch.stack(turned).mean(0))(x))


def test_views_other_than_the_dihedral_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="views must be one of"):
        dihedral_tta(lambda t: t, 3)
