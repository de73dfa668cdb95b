"""`restoria restore`: photos of any kind on disk -> restored colour photos (and each stage's output)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from restoria.inference.restorer import Restorer
from restoria.io import InputError, read_image, write_png


def _names(files: list[Path]) -> list[str]:
    """Output stems, unique within the batch (photo.png, photo_1.png, ...)."""
    used: dict[str, int] = {}
    names = []
    for f in files:
        n = used.get(f.stem, 0)
        used[f.stem] = n + 1
        names.append(f.stem if n == 0 else f"{f.stem}_{n}")
    return names


def load_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A user's mask (white = damaged), resized to the photo with nearest neighbour if needed."""
    mask = read_image(path, "L")
    if mask.shape != shape:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return (mask > 127).astype(np.uint8) * 255


def restore_files(
    files: list[Path],
    out: Path,
    restorer: Restorer,
    mask: Path | None = None,
    save_stages: bool = False,
    colour: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Path], list[InputError], list[str]]:
    """Restore each file into OUT; returns (written, errors, notes). Inputs are never overwritten.

    `colour` (auto, keep, colorize) says whether a photo in colour keeps its colours (only its damage
    filled) or is colorized from its gray (`Restorer.colour_mode`)."""
    inputs = {f.resolve() for f in files}
    written: list[Path] = []
    errors: list[InputError] = []
    notes: list[str] = []
    for f, name in zip(files, _names(files)):
        try:
            rgb = read_image(f, "RGB")
            targets = {s: out / f"{name}{s}.png" for s in ("", ".mask", ".enhanced", ".inpainted", ".colorized", ".restored")}
            clash = [t for t in targets.values() if t.resolve() in inputs]
            if clash:
                raise InputError(f, f"output {clash[0]} would overwrite an input; choose another --out")
            user_mask = load_mask(mask, rgb.shape[:2]) if mask is not None else None
            result = restorer(rgb, user_mask, colour)
            notes.extend(f"{f}: {n}" for n in result.notes)
            if save_stages:
                write_png(targets[".mask"], result.mask)
                write_png(targets[".enhanced"], result.enhanced)
                write_png(targets[".inpainted"], result.inpainted)
                write_png(targets[".colorized"], result.colorized)
                if result.upscaled is not None:  # the restored photo before super-resolution
                    write_png(targets[".restored"], result.restored)
            write_png(targets[""], result.restored if result.upscaled is None else result.upscaled)
            written.append(targets[""])
        except InputError as err:
            errors.append(err)
        if progress:
            progress(1)
    return written, errors, notes
