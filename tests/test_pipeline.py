"""The restore pipeline's tiling: bounded memory without changing the result away from seams."""

from __future__ import annotations

import numpy as np
import torch

from restoria.data import to_gray
from restoria.pipeline import Restorer, run_tiled


def test_tiling_of_a_pointwise_function_is_exact() -> None:
    x = torch.rand(1, 1, 300, 450)
    out = run_tiled(lambda t: t * 2 + 1, x, tile=128, overlap=32)
    torch.testing.assert_close(out, x * 2 + 1)


def test_tiled_and_untiled_restore_agree(photos: dict[str, np.ndarray]) -> None:
    gray = to_gray(photos["coffee"])  # 400 x 600
    whole = Restorer(tile=None)(gray)
    tiled = Restorer(tile=256)(gray)
    assert tiled.restored.shape == whole.restored.shape == (*gray.shape, 3)
    a = whole.colorized.astype(float)
    b = tiled.colorized.astype(float)
    # receptive fields differ near tile borders; the photos agree closely overall
    assert np.abs(a - b).mean() < 6.0
