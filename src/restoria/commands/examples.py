"""Real photos that ship with scikit-image, scikit-learn and matplotlib: never trained on, so they
judge the models, and offline demo material for `restoria examples`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restoria.data.damage import apply_damage
from restoria.imaging import to_gray
from restoria.io import write_png


def bundled_photos() -> dict[str, np.ndarray]:
    """name -> uint8 RGB photo, for whichever of the three packages are installed."""
    photos: dict[str, np.ndarray] = {}
    try:
        from skimage import data

        photos.update(astronaut=data.astronaut(), chelsea=data.chelsea(), coffee=data.coffee(), rocket=data.rocket())
        left, right, _ = data.stereo_motorcycle()
        photos.update(motorcycle_left=left, motorcycle_right=right)
    except ImportError:
        pass
    try:
        from sklearn.datasets import load_sample_images

        photos.update(zip(("china", "flower"), load_sample_images().images))
    except ImportError:
        pass
    try:
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data("grace_hopper.jpg") as fh:
            photos["grace_hopper"] = np.asarray(Image.open(fh).convert("RGB"))
    except (ImportError, OSError):
        pass
    return photos


def write_examples(out: str | Path, seed: int = 0) -> list[Path]:
    """Damaged gray versions of the bundled photos (competition-style damage) -> OUT/<name>.png."""
    out = Path(out)
    written = []
    for i, (name, rgb) in enumerate(sorted(bundled_photos().items())):
        damaged, _ = apply_damage(to_gray(rgb), np.random.default_rng([seed, i]))
        write_png(out / f"{name}.png", damaged)
        written.append(out / f"{name}.png")
    return written
