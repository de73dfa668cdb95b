"""`restoria restore`: photos of any kind on disk -> restored colour photos (and each stage's output).

`restore_one` is the work on one photo; the local engine (`restore_files`) and the Ray engine
(restoria.commands.ray_engine) both call it, so a photo comes out the same whichever engine ran it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from restoria.inference.colour import COLOUR_SIZE
from restoria.inference.restorer import Restorer
from restoria.io import InputError, read_image, write_png

STAGE_SUFFIXES = ("", ".mask", ".enhanced", ".inpainted", ".colorized", ".restored")


def _names(files: list[Path]) -> list[str]:
    """Output stems, unique within the batch (photo.png, photo_1.png, ...)."""
    used: dict[str, int] = {}
    names = []
    for f in files:
        n = used.get(f.stem, 0)
        used[f.stem] = n + 1
        names.append(f.stem if n == 0 else f"{f.stem}_{n}")
    return names


def plan(files: list[Path], out: Path, skip_done: bool = False) -> tuple[list[tuple[Path, str]], list[Path]]:
    """(photo, output stem) pairs still to restore, and the photos skipped because OUT/<stem>.png exists
    (`skip_done`). Stems are made unique over the WHOLE batch before anything is skipped or sent to a
    worker, so every engine and every re-run gives each photo the same name."""
    todo: list[tuple[Path, str]] = []
    skipped: list[Path] = []
    for f, name in zip(files, _names(files)):
        if skip_done and (out / f"{name}.png").is_file():
            skipped.append(f)
        else:
            todo.append((f, name))
    return todo, skipped


def load_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """A user's mask (white = damaged), resized to the photo with nearest neighbour if needed."""
    mask = read_image(path, "L")
    if mask.shape != shape:
        mask = cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return (mask > 127).astype(np.uint8) * 255


@dataclass
class Outcome:
    """What one photo gave: the PNG written or the error that stopped it, and what the user should know
    (the restorer's notes, not yet prefixed with the photo's path: the caller names it as the user did)."""

    written: Path | None = None
    error: InputError | None = None
    notes: list[str] = field(default_factory=list)


def restore_one(
    f: Path,
    name: str,
    out: Path,
    restorer: Restorer,
    inputs: Collection[Path],
    mask: Path | None = None,
    save_stages: bool = False,
    colour: str = "auto",
) -> Outcome:
    """Restore one photo into OUT/<name>.png (and its stages); a bad input is returned, not raised, so
    the batch goes on. `inputs` are the batch's resolved input paths: no output may overwrite one."""
    try:
        rgb = read_image(f, "RGB")
        targets = {s: out / f"{name}{s}.png" for s in STAGE_SUFFIXES}
        clash = [t for t in targets.values() if t.resolve() in inputs]
        if clash:
            raise InputError(f, f"output {clash[0]} would overwrite an input; choose another --out")
        user_mask = load_mask(mask, rgb.shape[:2]) if mask is not None else None
        result = restorer(rgb, user_mask, colour)
        if save_stages:
            write_png(targets[".mask"], result.mask)
            write_png(targets[".enhanced"], result.enhanced)
            write_png(targets[".inpainted"], result.inpainted)
            write_png(targets[".colorized"], result.colorized)
            if result.upscaled is not None:  # the restored photo before super-resolution
                write_png(targets[".restored"], result.restored)
        write_png(targets[""], result.restored if result.upscaled is None else result.upscaled)
        return Outcome(written=targets[""], notes=list(result.notes))
    except InputError as err:
        return Outcome(error=err)


def restore_files(
    files: list[Path],
    out: Path,
    restorer: Restorer,
    mask: Path | None = None,
    save_stages: bool = False,
    colour: str = "auto",
    progress: Callable[[int], None] | None = None,
    skip_done: bool = False,
) -> tuple[list[Path], list[InputError], list[str]]:
    """The local engine: restore each file into OUT, one after the other; returns (written, errors, notes).
    Inputs are never overwritten. `skip_done` skips a photo whose OUT/<name>.png exists (a re-run after
    a kill), counted in `progress` at once.

    `colour` (auto, keep, colorize) says whether a photo in colour keeps its colours (only its damage
    filled) or is colorized from its gray (`Restorer.colour_mode`)."""
    todo, skipped = plan(files, out, skip_done)
    if progress and skipped:
        progress(len(skipped))
    inputs = {f.resolve() for f in files}
    written: list[Path] = []
    errors: list[InputError] = []
    notes: list[str] = []
    for f, name in todo:
        outcome = restore_one(f, name, out, restorer, inputs, mask, save_stages, colour)
        notes.extend(f"{f}: {n}" for n in outcome.notes)
        if outcome.error is not None:
            errors.append(outcome.error)
        if outcome.written is not None:
            written.append(outcome.written)
        if progress:
            progress(1)
    return written, errors, notes


def _absolute(value: str | Path | None) -> str | Path | None:
    """A path option made absolute (workers may run in another folder); "default"/None unchanged."""
    return value if value is None or value == "default" else Path(value).absolute()


def restorer_kwargs(
    weights: list[Path] | None,
    tile: int | None,
    color_strength: float = 1.0,
    detector: str = "both",
    backend: str = "onnx",
    segmenter: str = "default",
    classifier: str = "default",
    tta: bool = False,
    upscale: int | None = None,
    sr_weights: Path | None = None,
    fill: str = "auto",
    enhancer: str = "default",
    colour_size: int = COLOUR_SIZE,
    real_segmenter: str = "default",
    color_calibration: float | None = None,
    damage_views: int | None = None,
) -> dict[str, Any]:
    """`Restorer`'s keyword arguments from the CLI's options, as `restoria.cli._restorer` builds them
    ('none' switches a detector or the enhancer off), with every path absolute for the workers."""
    seg, cls, enh, real = (None if v.lower() == "none" else _absolute(v) for v in (segmenter, classifier, enhancer, real_segmenter))
    return {
        "weights": [_absolute(w) for w in weights] if weights else None, "tile": tile, "color_strength": color_strength,
        "detector": detector, "backend": backend, "segmenter": seg, "classifier": cls, "tta": tta, "upscale": upscale,
        "sr_weights": _absolute(sr_weights), "fill": fill, "enhancer": enh,
        "colour_size": colour_size or None, "real_segmenter": real, "color_calibration": color_calibration,
        "damage_views": damage_views,
    }
