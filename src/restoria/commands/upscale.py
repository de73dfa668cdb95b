"""`restoria upscale`: photos that only need super-resolution -> OUT/<name>.png, `scale` times larger."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from restoria.commands.restore import _names
from restoria.inference.upscaler import Upscaler
from restoria.io import InputError, is_gray, read_image, write_png


def upscale_files(
    files: list[Path], out: Path, upscaler: Upscaler, progress: Callable[[int], None] | None = None
) -> tuple[list[Path], list[InputError]]:
    """Super-resolve each file into OUT (gray photos stay gray); returns (written, errors). Inputs are
    never overwritten and a bad file does not stop the batch."""
    inputs = {f.resolve() for f in files}
    written: list[Path] = []
    errors: list[InputError] = []
    for f, name in zip(files, _names(files)):
        try:
            target = out / f"{name}.png"
            if target.resolve() in inputs:
                raise InputError(f, f"output {target} would overwrite an input; choose another --out")
            rgb = read_image(f, "RGB")
            write_png(target, upscaler(rgb[..., 0] if is_gray(rgb) else rgb))
            written.append(target)
        except InputError as err:
            errors.append(err)
        if progress:
            progress(1)
    return written, errors
