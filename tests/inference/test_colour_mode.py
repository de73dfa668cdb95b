"""Which photos keep their colours: decided from the pixels, on made-up toned prints and real colour photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restoria.commands.examples import bundled_photos
from restoria.data.damage import TONES, tone
from restoria.inference.colour_mode import colour_mode

PHOTOS = bundled_photos()


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_colour_photos_are_colour_and_their_gray_is_gray(name: str) -> None:
    rgb = PHOTOS[name]
    assert colour_mode(rgb) == "colour"
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    assert colour_mode(np.repeat(gray[..., None], 3, -1)) == "gray"
    assert colour_mode(gray) == "gray"


@pytest.mark.parametrize("toning", sorted(TONES))
def test_toned_prints_are_toned(toning: str) -> None:
    for name, rgb in PHOTOS.items():
        toned = tone(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), *TONES[toning])
        assert colour_mode(toned) == "toned", name


def test_a_toned_print_with_a_hand_coloured_patch_is_colour() -> None:
    """Hand-colouring adds colours that lightness does not explain: the photo has colour to keep."""
    rgb = PHOTOS["astronaut"]
    toned = tone(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), *TONES["sepia"])
    toned[100:400, 100:400] = rgb[100:400, 100:400]
    assert colour_mode(toned) == "colour"
