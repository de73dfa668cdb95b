"""The bad-input corpus, made here: every command reports each bad file in one line (file: reason), exits
2, still processes every other file, restores valid-but-unusual images, overwrites nothing and leaves
no partial output behind."""

from __future__ import annotations

import csv
import json
import struct
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import detector_weights, invoke
from PIL import Image

BOMB_SIDE = 30_000


def png_bomb(path: Path, side: int = BOMB_SIDE) -> None:
    """A valid 1-bit PNG of side x side pixels (900 megapixels: 3.6 GB as RGBA) that is ~100 KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def exif_rotated_jpeg(path: Path, rgb: np.ndarray) -> None:
    """A JPEG stored sideways with EXIF Orientation 6: viewers (and we) must turn it 90 degrees clockwise."""
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb).save(path, quality=92, exif=exif)


def small(photo: np.ndarray, h: int, w: int) -> np.ndarray:
    return cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> tuple[Path, dict[str, tuple[int, int]], dict[str, str]]:
    """(folder, valid file -> the (width, height) its result must have, bad file -> the reason it must be refused with)."""
    d = tmp_path_factory.mktemp("corpus")
    cat, coffee = small(photos["chelsea"], 96, 144), small(photos["coffee"], 100, 150)
    good = d / "good.png"
    Image.fromarray(cat).save(good)
    valid = {"good.png": (144, 96)}
    Image.fromarray(cv2.cvtColor(coffee, cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257).save(d / "gray16.png")
    cv2.imwrite(str(d / "rgb16.png"), cv2.cvtColor(coffee, cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)
    alpha = np.tile(np.linspace(0, 255, 150, dtype=np.uint8), (100, 1))
    Image.fromarray(np.dstack([coffee, alpha])).save(d / "rgba.png")
    Image.fromarray(coffee).convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(d / "palette.png")
    Image.fromarray(coffee).convert("CMYK").save(d / "cmyk.jpg", quality=92)
    valid.update({n: (150, 100) for n in ("gray16.png", "rgb16.png", "rgba.png", "palette.png", "cmyk.jpg")})
    exif_rotated_jpeg(d / "sideways.jpg", coffee)  # stored 150 wide, 100 high; shown 100 wide, 150 high
    valid["sideways.jpg"] = (100, 150)
    Image.fromarray(np.array([[[120, 80, 40]]], np.uint8)).save(d / "dot.png")
    valid["dot.png"] = (1, 1)
    (d / "truncated.png").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (d / "empty.png").write_bytes(b"")
    (d / "notes.png").write_text("ID,input_image_path\nthis is a CSV, not a picture\n")
    png_bomb(d / "bomb.png")
    bad = {"truncated.png": "not a readable image", "empty.png": "empty file (0 bytes)",
           "notes.png": "not a readable image", "bomb.png": "image too large (900,000,000 pixels; at most 89.5 megapixels"}
    assert (d / "bomb.png").stat().st_size < 300_000
    return d, valid, bad


def error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("error:")]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_partial_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".part"]


def check_errors(stderr: str, folder: Path, bad: dict[str, str]) -> None:
    """One line per bad file, naming it and its reason, and no other error lines."""
    lines = error_lines(stderr)
    assert len(lines) == len(bad), stderr
    for name, reason in bad.items():
        assert sum(str(folder / name) in ln and reason in ln for ln in lines) == 1, (name, stderr)


def test_restore_the_corpus(tmp_path: Path, corpus, runner) -> None:
    folder, valid, bad = corpus
    before = snapshot(folder)
    out = tmp_path / "out"
    (out).mkdir()
    (out / "keep.txt").write_text("not ours")
    res = invoke(runner, "restore", folder, "--out", out, "--save-stages")
    assert res.exit_code == 2
    check_errors(res.stderr, folder, bad)
    for name, size in valid.items():
        stem = Path(name).stem
        result = Image.open(out / f"{stem}.png")
        assert result.mode == "RGB" and result.size == size, name
        assert Image.open(out / f"{stem}.mask.png").size == size
    for name in bad:
        assert not list(out.glob(f"{Path(name).stem}*"))
    assert snapshot(folder) == before and (out / "keep.txt").read_text() == "not ours"
    assert no_partial_files(out)


def test_restored_unusual_images_keep_their_content(tmp_path: Path, corpus, runner) -> None:
    """The result's luma is the photo's own gray (not noise from a wrong conversion): EXIF rotation,
    16-bit scaling, alpha, palette and CMYK are all read as a viewer shows them."""
    folder = corpus[0]
    res = invoke(runner, "restore", *(folder / n for n in ("sideways.jpg", "gray16.png", "cmyk.jpg")), "--out", tmp_path,
                 "--save-stages", "--detector", "flat")
    assert res.exit_code == 0, res.output
    reference = cv2.cvtColor(np.asarray(Image.open(folder / "rgb16.png").convert("RGB")), cv2.COLOR_RGB2GRAY).astype(float)
    for name, expect in (("sideways", np.rot90(reference, -1)), ("gray16", reference), ("cmyk", reference)):
        gray = np.asarray(Image.open(tmp_path / f"{name}.inpainted.png")).astype(float)
        assert gray.shape == expect.shape, name
        assert np.abs(gray - expect).mean() < 4.0, name  # JPEG loss and flat-fill inpainting aside, the same photo


def write_layout(root: Path, rows: list[dict[str, str]], split: str = "test") -> None:
    with open(root / f"{split}.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["ID", "input_image_path"])
        w.writeheader()
        w.writerows(rows)


def test_predict_the_corpus(tmp_path: Path, corpus, runner) -> None:
    folder, valid, bad = corpus
    data = tmp_path / "data"
    (data / "test_input").mkdir(parents=True)
    rows = []
    for i, name in enumerate(sorted(valid) + sorted(bad)):
        (data / "test_input" / name).write_bytes((folder / name).read_bytes())
        rows.append({"ID": f"TEST_{i:03d}", "input_image_path": f"./test_input/{name}"})
    n_files = len(rows)
    outside = tmp_path / "secret.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(outside)
    rows += [
        {"ID": "", "input_image_path": "./test_input/good.png"},  # missing ID
        {"ID": "TEST_000", "input_image_path": "./test_input/dot.png"},  # duplicate ID: would overwrite TEST_000.png
        {"ID": "UP", "input_image_path": "../secret.png"},
        {"ID": "ABS", "input_image_path": str(outside)},
        {"ID": "GONE", "input_image_path": "./test_input/gone.png"},
        {"ID": "../../evil", "input_image_path": "./test_input/good.png"},
    ]
    write_layout(data, rows)
    before = snapshot(data)
    out, zpath = tmp_path / "pred", tmp_path / "sub.zip"
    res = invoke(runner, "predict", "--data", data, "--out", out, "--zip", zpath)
    assert res.exit_code == 2
    lines = error_lines(res.stderr)
    assert len(lines) == len(bad) + 6, res.stderr
    for name, reason in bad.items():
        assert sum(name in ln and reason in ln for ln in lines) == 1, (name, res.stderr)
    csv_path = str(data / "test.csv")
    assert any(csv_path in ln and f"line {n_files + 2}: empty ID" in ln for ln in lines)
    assert any(csv_path in ln and f"line {n_files + 3}: duplicate ID TEST_000 (first on line 2)" in ln for ln in lines)
    assert any("../secret.png: input_image_path of UP escapes the dataset folder" in ln for ln in lines)
    assert any(f"{outside}: input_image_path of ABS must be relative" in ln for ln in lines)
    assert any("gone.png" in ln and "file not found" in ln for ln in lines)
    assert any(csv_path in ln and "'../../evil' is not a plain name" in ln for ln in lines)
    expected = {f"TEST_{i:03d}.png": valid[name] for i, name in enumerate(sorted(valid) + sorted(bad)) if name in valid}
    assert {p.name: Image.open(p).size for p in out.iterdir()} == expected
    np.testing.assert_array_equal(  # TEST_000 is the first row's photo, not the duplicate's
        np.asarray(Image.open(out / "TEST_000.png")).shape[:2], Image.open(data / rows[0]["input_image_path"]).size[::-1])
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
    assert sorted(names) == sorted(expected) and all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)
    assert snapshot(data) == before and not (tmp_path / "evil.png").exists()
    assert no_partial_files(out) and [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []


def test_evaluate_reports_bad_predictions_and_rows(tmp_path: Path, photos: dict[str, np.ndarray], corpus, runner) -> None:
    folder, _, _ = corpus
    data, pred = tmp_path / "data", tmp_path / "pred"
    for sub in ("test_gt", "test_mask", "test_input"):
        (data / sub).mkdir(parents=True)
    pred.mkdir()
    rows = []
    for i, name in enumerate(("astronaut", "coffee", "rocket", "chelsea", "china")):
        rid = f"TEST_{i:03d}"
        rgb = small(photos[name], 64, 64)
        mask = np.zeros((64, 64), np.uint8)
        mask[10:40, 20:50] = 255
        Image.fromarray(rgb).save(data / "test_gt" / f"{rid}.png")
        Image.fromarray(mask).save(data / "test_mask" / f"{rid}.png")
        rows.append({"ID": rid, "input_image_path": f"./test_input/{rid}.png"})
        Image.fromarray(np.roll(rgb, 3, axis=1)).save(pred / f"{rid}.png")
    (pred / "TEST_001.png").write_bytes((folder / "truncated.png").read_bytes())
    (pred / "TEST_002.png").unlink()
    Image.fromarray(np.zeros((32, 64, 3), np.uint8)).save(pred / "TEST_003.png")
    rows += [{"ID": "", "input_image_path": "x"}, {"ID": "TEST_000", "input_image_path": "x"}]
    write_layout(data, rows)
    res = invoke(runner, "evaluate", "--data", data, "--pred", pred)
    assert res.exit_code == 2
    lines = error_lines(res.stderr)
    assert len(lines) == 5, res.stderr
    assert any(str(pred / "TEST_001.png") in ln and "not a readable image" in ln for ln in lines)
    assert any(str(pred / "TEST_002.png") in ln and "file not found" in ln for ln in lines)
    assert any(str(pred / "TEST_003.png") in ln and "size 64x32 differs from the ground truth 64x64" in ln for ln in lines)
    assert any("line 7: empty ID" in ln for ln in lines) and any("line 8: duplicate ID TEST_000" in ln for ln in lines)
    result = json.loads(res.stdout)
    assert result["n"] == 2 and 0 < result["score"] < 1  # TEST_000 (once) and TEST_004 were scored


def test_prepare_the_corpus(tmp_path: Path, corpus, runner) -> None:
    folder, valid, bad = corpus
    out = tmp_path / "ds"
    res = invoke(runner, "prepare", folder, "--out", out, "--size", 32, "--val-fraction", 0, "--test-fraction", 0)
    assert res.exit_code == 2
    check_errors(res.stderr, folder, bad)
    with open(out / "train.csv") as fh:
        sources = sorted(Path(r["source"]).name for r in csv.DictReader(fh))
    assert sources == sorted(valid)
    assert all(Image.open(p).size == (32, 32) for p in (out / "train_gt").iterdir())
    assert no_partial_files(out)


def test_classify_the_corpus(tmp_path: Path, corpus, runner) -> None:
    folder, valid, bad = corpus
    res = invoke(runner, "classify", folder, "--weights", detector_weights(tmp_path, "classify", 10.0))
    assert res.exit_code == 2
    check_errors(res.stderr, folder, bad)
    answers = [json.loads(ln) for ln in res.stdout.splitlines()]
    assert sorted(Path(a["path"]).name for a in answers) == sorted(valid)
    assert all(a["damaged"] is True for a in answers)


def test_bombs_are_refused_before_decoding(tmp_path: Path, corpus, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over our pixel cap the header alone refuses the file (its pixels are never decoded); between
    Pillow's bomb threshold and the cap, Pillow's own warning refuses it."""
    from PIL import ImageFile

    from restoria.io import InputError, read_image

    folder, _, _ = corpus
    png_bomb(tmp_path / "mid.png", 10_000)  # 100 megapixels: over Pillow's 89.5 MP bomb threshold
    with pytest.raises(InputError, match=r"mid.png: image too large"):
        read_image(tmp_path / "mid.png")

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(InputError, match=r"bomb.png: image too large \(900,000,000 pixels"):
        read_image(folder / "bomb.png", "L")
