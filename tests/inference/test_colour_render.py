"""Colour read at the scale the colorizer learnt: a large photo's chroma comes from a ~512 px view."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from restoria.commands.restore import restorer_kwargs
from restoria.imaging import to_gray
from restoria.inference.colour import colorize, colour_view
from restoria.inference.restorer import Restorer


@pytest.mark.parametrize("shape,expected", [((512, 512), (512, 512)), ((300, 451), (300, 451)), ((1536, 2048), (443, 591))])
def test_the_view_keeps_small_photos_and_shrinks_large_ones_to_the_trained_area(shape: tuple[int, int], expected: tuple[int, int]) -> None:
    assert tuple(colour_view(torch.rand(1, 1, *shape), 512).shape[-2:]) == expected
    assert tuple(colour_view(torch.rand(1, 1, *shape), None).shape[-2:]) == shape


class Recorder:
    """A colorizer with the pipeline's interface that records the size it was given and answers a
    fixed chroma (Cb +0.1): enough to see what each kind of colorizer is shown."""

    samples_hue = False
    chroma_gain = 1.0

    def __init__(self, color_space: str) -> None:
        self.color_space = color_space
        self.seen: list[tuple[int, int]] = []

    def color(self, gray: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(gray.shape[-2:]))
        if self.color_space == "rgb":
            return gray.expand(-1, 3, -1, -1)
        return torch.cat([torch.full_like(gray, 0.1), torch.zeros_like(gray)], 1)

    def to_rgb(self, gray: torch.Tensor, color: torch.Tensor, chroma_gain: float | None = None) -> torch.Tensor:
        from restoria.models.two_stage.compose import compose_rgb

        return compose_rgb(gray, color, self.color_space, chroma_gain or 1.0)


def test_a_chroma_colorizer_reads_the_view_and_an_rgb_one_the_whole_photo() -> None:
    gray = torch.rand(1, 1, 1024, 768)
    nets = [Recorder("ycbcr"), Recorder("rgb")]
    out = colorize(nets, gray, lambda fn, x: fn(x), size=512)
    assert nets[0].seen == [(591, 443)] and nets[1].seen == [(1024, 768)]
    assert out.shape == (1024, 768, 3)


def test_a_large_scan_gets_the_colour_of_its_trained_size_over_its_own_luma(photos: dict[str, np.ndarray]) -> None:
    """The shipped colorizer on a 2x enlargement of the astronaut: its chroma, read from a 512 px
    view, is the 512 px photo's chroma scaled up, and the luma is the enlargement's own."""
    restorer = Restorer(segmenter=None, classifier=None, enhancer=None, tile=1024)
    gray = to_gray(photos["astronaut"])
    big = cv2.resize(gray, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    small_rgb = restorer.colorize(gray)
    big_rgb = restorer.colorize(big)
    chroma = lambda rgb: cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[..., 1:].astype(float)
    scaled_up = cv2.resize(chroma(small_rgb), (1024, 1024), interpolation=cv2.INTER_LINEAR)
    luma = cv2.cvtColor(big_rgb, cv2.COLOR_RGB2YCrCb)[..., 0].astype(int)
    assert np.median(np.abs(luma - big.astype(int))) <= 1
    restorer.colour_size = None  # at full size the same colorizer reads other colours off the enlargement
    full = np.abs(chroma(restorer.colorize(big)) - scaled_up).mean()
    view = np.abs(chroma(big_rgb) - scaled_up).mean()
    assert view < 0.5 * full, (view, full)  # measured 4.0 against 10.8 (the colour of 4x4 cells, resampled)


def test_colour_size_zero_on_the_command_line_means_full_size() -> None:
    assert restorer_kwargs(None, 1024, colour_size=0)["colour_size"] is None
    assert restorer_kwargs(None, 1024)["colour_size"] == 512
