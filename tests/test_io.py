"""Reading never corrupts or hides a bad file; writing never leaves a partial file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restoria.io import InputError, atomic_path, read_csv, read_image, resolve_inside, write_png


def test_bad_files_name_file_and_reason(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(photos["chelsea"]).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[:2000])
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "text.png"
    text.write_text("not an image")
    cases = {truncated: "not a readable image", empty: "empty file", text: "not a readable image",
             tmp_path / "missing.png": "file not found"}
    for path, reason in cases.items():
        with pytest.raises(InputError) as info:
            read_image(path)
        assert str(path) in str(info.value) and reason in str(info.value)


def test_conversions(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    img = photos["coffee"]
    rgba = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_image(tmp_path / "rgba.png"), img)
    gray16 = (img[..., 1].astype(np.uint16) * 257)
    Image.fromarray(gray16).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g16.png", "L"), img[..., 1])
    Image.fromarray(img).convert("P").save(tmp_path / "pal.png")
    assert read_image(tmp_path / "pal.png").shape == img.shape


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out.png") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    write_png(tmp_path / "ok.png", np.zeros((4, 4), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["ok.png"]


def test_csv_paths_stay_inside(tmp_path: Path) -> None:
    assert resolve_inside(tmp_path, "./a/b.png", "x") == (tmp_path / "a/b.png").resolve()
    for bad in ("../escape.png", "/etc/passwd", "a/../../x.png"):
        with pytest.raises(InputError):
            resolve_inside(tmp_path, bad, "input_image_path")


def test_csv_ids(tmp_path: Path) -> None:
    p = tmp_path / "test.csv"
    p.write_text("ID,input_image_path\nA,./a.png\nA,./b.png\n")
    with pytest.raises(InputError, match="duplicate ID A"):
        read_csv(p, ("ID", "input_image_path"))
    p.write_text("ID\nA\n")
    with pytest.raises(InputError, match="missing column"):
        read_csv(p, ("ID", "input_image_path"))


def test_csv_bad_rows_reported_and_skipped(tmp_path: Path) -> None:
    """A batch command's mode: each bad row is one error naming the CSV and line; the first of a duplicated ID is kept."""
    p = tmp_path / "test.csv"
    p.write_text("ID,input_image_path\nA,./a.png\n,./b.png\nA,./c.png\na\\b,./d.png\n..,./e.png\nB,./f.png\n")
    errors: list[InputError] = []
    rows = read_csv(p, ("ID", "input_image_path"), errors=errors)
    assert [(r["ID"], r["input_image_path"]) for r in rows] == [("A", "./a.png"), ("B", "./f.png")]
    assert [e.reason for e in errors] == [
        "line 3: empty ID; row skipped",
        "line 4: duplicate ID A (first on line 2); row skipped",
        "line 5: ID 'a\\\\b' is not a plain name; row skipped",
        "line 6: ID '..' is not a plain name; row skipped",
    ]
    assert all(e.path == str(p) for e in errors)


def test_atomic_write_gives_the_usual_file_mode(tmp_path: Path) -> None:
    """Outputs are readable like any file the user makes, not private like a temporary file."""
    write_png(tmp_path / "out.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "plain").write_bytes(b"")
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777
