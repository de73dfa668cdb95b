"""The enhance task: its levels path learns to undo fading from the whole photo while the U-Net sees a
crop of it, and the crops of the aged photo, its truth and its damage mask stay aligned."""

from __future__ import annotations

import numpy as np
import torch
from conftest import fixed_batch_losses

from restoria.imaging import to_tensor
from restoria.metrics.superres import luma
from restoria.models.enhancer.levels import photo_view
from restoria.tasks.enhance import EnhanceTask, random_crop

TINY = {"name": "enhancer", "decoder_channels": [16, 16, 16, 16, 16], "head_channels": 8, "levels": True}


def test_random_crop_takes_one_window_of_every_image() -> None:
    torch.manual_seed(0)
    x = torch.arange(2 * 64 * 64, dtype=torch.float32).view(2, 1, 64, 64)
    a, b = random_crop((x, x * 2), 16)
    assert a.shape == (2, 1, 16, 16) and torch.equal(b, a * 2)
    for img, crop in zip(x, a):  # each crop is a contiguous window of its own photo
        y0, x0 = divmod(int(crop[0, 0, 0]) - int(img[0, 0, 0]), 64)
        assert torch.equal(img[:, y0 : y0 + 16, x0 : x0 + 16], crop)


def test_the_levels_path_learns_to_undo_fading(photos: dict[str, np.ndarray]) -> None:
    """Fading only, the U-Net on 64 px crops and the levels on the whole 128 px photo: afterwards a
    faded photo comes out much nearer its truth than it went in, and the levels stretch it (gain > 1)."""
    torch.manual_seed(0)
    hr = torch.stack([to_tensor(photos[n][:128, :128]) for n in ("astronaut", "chelsea", "coffee", "rocket")])
    task = EnhanceTask(model=TINY, ageing={"damage": {}, "ageing": {"fade": 1.0}}, clean_fraction=0.0, train_crop=64)
    fixed_batch_losses(task, {"hr": hr}, torch.optim.Adam(task.parameters(), lr=3e-3), 60)
    clean = luma(hr)
    faded = clean * 0.6 + 0.3
    with torch.no_grad():
        after = (task(faded) - clean).abs().mean()
        gain, _ = task.net.levels(photo_view(faded))
    assert after < 0.6 * (faded - clean).abs().mean(), after
    assert (gain > 1.2).all(), gain.flatten()
