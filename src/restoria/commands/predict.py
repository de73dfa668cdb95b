"""Competition prediction: DATA/test.csv -> OUT/<ID>.png (RGB, input size) and a flat submission ZIP."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

from restoria.commands.restore import Outcome
from restoria.inference.restorer import Restorer
from restoria.io import InputError, atomic_path, read_csv, read_image, resolve_inside, write_png


def plan_rows(data: str | Path, errors: list[InputError]) -> tuple[list[tuple[Path, str]], int]:
    """(input photo, ID) for each row of DATA/test.csv whose input path is sound, and how many rows
    named a path outside DATA. Those rows' errors, and rows the CSV reader rejected, go to `errors`."""
    data = Path(data)
    todo = []
    rows = read_csv(data / "test.csv", required=("ID", "input_image_path"), errors=errors)
    for row in rows:
        rid = row["ID"].strip()
        try:
            todo.append((resolve_inside(data, row["input_image_path"], f"input_image_path of {rid}"), rid))
        except InputError as err:
            errors.append(err)
    return todo, len(rows) - len(todo)


def predict_one(src: Path, rid: str, out: Path, restorer: Restorer) -> Outcome:
    """Restore one competition input into OUT/<ID>.png (RGB, its size); a bad input is returned, not
    raised, so the other rows still run. Both engines call it."""
    try:
        gray = read_image(src, "L")
        dest = out / f"{rid}.png"
        if dest.resolve() == src.resolve():
            raise InputError(src, "the output would overwrite this input; choose another --out")
        write_png(dest, restorer(gray).restored)
        return Outcome(written=dest)
    except InputError as err:
        return Outcome(error=err)


# an engine: the (input, ID) rows, OUT and a progress callback -> (written, errors), in row order
Engine = Callable[..., tuple[list[Path], list[InputError]]]


def local_engine(restorer: Restorer) -> Engine:
    """Rows restored one after the other in this process."""

    def run(todo: list[tuple[Path, str]], out: Path, progress: Callable[[int], None] | None = None) -> tuple[list[Path], list[InputError]]:
        written: list[Path] = []
        errors: list[InputError] = []
        for src, rid in todo:
            outcome = predict_one(src, rid, out, restorer)
            written += [outcome.written] if outcome.written else []
            errors += [outcome.error] if outcome.error else []
            if progress:
                progress(1)
        return written, errors

    return run


def predict(
    data: str | Path,
    out: str | Path,
    restorer: Restorer | None,
    zip_path: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    engine: Engine | None = None,
) -> tuple[list[Path], list[InputError]]:
    """Restore every row of DATA/test.csv, by `restorer` here or by `engine` (e.g. the Ray engine,
    `restoria.commands.ray_engine.predict_on_ray`); a bad row is reported and the others still written."""
    errors: list[InputError] = []
    todo, unsound = plan_rows(data, errors)
    if progress and unsound:
        progress(unsound)
    written, failed = (engine or local_engine(restorer))(todo, Path(out), progress=progress)
    if zip_path is not None:
        write_zip(zip_path, written)
    return written, errors + failed


def write_zip(zip_path: str | Path, files: list[Path]) -> None:
    """A flat ZIP (no folders inside), written atomically."""
    with atomic_path(zip_path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, arcname=f.name)
