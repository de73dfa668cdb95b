"""Competition prediction: DATA/test.csv -> OUT/<ID>.png (RGB, input size) and a flat submission ZIP."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

from restoria.inference.restorer import Restorer
from restoria.io import InputError, atomic_path, read_csv, read_image, resolve_inside, write_png


def predict(
    data: str | Path,
    out: str | Path,
    restorer: Restorer,
    zip_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Path], list[InputError]]:
    """Restore every row of DATA/test.csv; a bad row is reported and the others still written."""
    data, out = Path(data), Path(out)
    errors: list[InputError] = []
    rows = read_csv(data / "test.csv", required=("ID", "input_image_path"), errors=errors)
    written: list[Path] = []
    for row in rows:
        rid = row["ID"].strip()
        try:
            src = resolve_inside(data, row["input_image_path"], f"input_image_path of {rid}")
            gray = read_image(src, "L")
            dest = out / f"{rid}.png"
            if dest.resolve() == src:
                raise InputError(src, "the output would overwrite this input; choose another --out")
            write_png(dest, restorer(gray).restored)
            written.append(dest)
        except InputError as err:
            errors.append(err)
        if progress:
            progress(1)
    if zip_path is not None:
        write_zip(zip_path, written)
    return written, errors


def write_zip(zip_path: str | Path, files: list[Path]) -> None:
    """A flat ZIP (no folders inside), written atomically."""
    with atomic_path(zip_path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, arcname=f.name)
