"""`restoria restore`: photos of any kind on disk -> restored colour photos (and each stage's output)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from restoria.data import to_gray, to_tensor, to_uint8
from restoria.io import InputError, is_gray, read_image, write_png
from restoria.pipeline import Restorer, Stages

STAGES = ("detect", "inpaint", "colorize")


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


def restore_image(
    rgb: np.ndarray,
    restorer: Restorer,
    mask: np.ndarray | None = None,
    keep_color: bool = False,
    stages: tuple[str, ...] = STAGES,
) -> tuple[Stages, list[str]]:
    """Restore one uint8 RGB photo with the chosen `stages`; returns every stage's output and notes.

    A colour photo is restored from its gray; with `keep_color` its own colours are kept outside the
    damage. A `mask` (>0 = damaged) replaces detection; without one and without "detect" nothing is
    inpainted. Without "inpaint" the damage is found but left as it is; without "colorize" the result
    is the restored gray. The web page and `restoria restore` share this one path."""
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(sorted(unknown))}; choose from {', '.join(STAGES)}")
    notes = []
    colour = not is_gray(rgb)
    if colour and not keep_color:
        notes.append("colour photo converted to gray before restoring (--keep-color keeps its colours)")
    gray = to_gray(rgb)
    if mask is None and "detect" not in stages:
        mask = np.zeros_like(gray)
    keep = rgb if colour and keep_color else None
    out = restorer(gray, mask, keep=keep if "colorize" in stages else None)
    if "inpaint" not in stages and out.mask.any():
        out.inpainted = gray
        out.colorized = to_uint8(restorer.colorize(to_tensor(gray)[None].to(restorer.device))[0])
        out.restored = out.colorized if keep is None else np.where(out.mask[..., None] > 0, out.colorized, keep)
    if "colorize" not in stages:
        plain = np.repeat(out.inpainted[..., None], 3, axis=-1)
        out.restored = plain if keep is None else np.where(out.mask[..., None] > 0, plain, keep)
    if restorer.upscaler is not None and not {"inpaint", "colorize"} <= set(stages):
        out.upscaled = restorer.upscaler(out.restored)  # the last stage follows what the chosen stages made
    return out, notes


def restore_files(
    files: list[Path],
    out: Path,
    restorer: Restorer,
    mask: Path | None = None,
    save_stages: bool = False,
    keep_color: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Path], list[InputError], list[str]]:
    """Restore each file into OUT; returns (written, errors, notes). Inputs are never overwritten.

    A colour photo is restored from its gray; with `keep_color` its own colours are kept outside the
    damage and only the damaged region takes the model's colour."""
    inputs = {f.resolve() for f in files}
    written: list[Path] = []
    errors: list[InputError] = []
    notes: list[str] = []
    for f, name in zip(files, _names(files)):
        try:
            rgb = read_image(f, "RGB")
            targets = {s: out / f"{name}{s}.png" for s in ("", ".mask", ".inpainted", ".colorized", ".restored")}
            clash = [t for t in targets.values() if t.resolve() in inputs]
            if clash:
                raise InputError(f, f"output {clash[0]} would overwrite an input; choose another --out")
            user_mask = load_mask(mask, rgb.shape[:2]) if mask is not None else None
            stages, photo_notes = restore_image(rgb, restorer, user_mask, keep_color)
            notes.extend(f"{f}: {n}" for n in photo_notes)
            if save_stages:
                write_png(targets[".mask"], stages.mask)
                write_png(targets[".inpainted"], stages.inpainted)
                write_png(targets[".colorized"], stages.colorized)
                if stages.upscaled is not None:  # the restored photo before super-resolution
                    write_png(targets[".restored"], stages.restored)
            write_png(targets[""], stages.restored if stages.upscaled is None else stages.upscaled)
            written.append(targets[""])
        except InputError as err:
            errors.append(err)
        if progress:
            progress(1)
    return written, errors, notes
