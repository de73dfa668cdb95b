"""`restoria prepare`: the competition layout from real photos, split by source, reproducible."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
from conftest import invoke
from PIL import Image


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_layout(dataset: Path, photos: dict) -> None:
    train, val, test = (rows(dataset / f"{s}.csv") for s in ("train", "val", "test"))
    assert list(train[0]) == ["ID", "input_image_path", "gt_image_path", "source"]
    assert list(test[0]) == ["ID", "input_image_path", "source"]
    assert len(train) + len(val) + len(test) == 2 * len(photos)
    assert len(val) >= 2 and len(test) >= 2
    sources = [{r["source"] for r in s} for s in (train, val, test)]
    assert not (sources[0] & sources[1]) and not (sources[0] & sources[2]) and not (sources[1] & sources[2])
    r = train[0]
    inp = np.asarray(Image.open(dataset / r["input_image_path"]))
    gt = np.asarray(Image.open(dataset / r["gt_image_path"]))
    mask = np.asarray(Image.open(dataset / "train_mask" / f"{r['ID']}.png"))
    assert inp.shape == (128, 128) and gt.shape == (128, 128, 3) and mask.shape == (128, 128)
    assert np.unique(inp[mask > 0]).size == 1 and (mask > 0).sum() > 625 / 16
    for split, rs in (("test", test),):
        for rr in rs:
            assert (dataset / f"{split}_gt" / f"{rr['ID']}.png").exists()


def test_reproducible(tmp_path: Path, photo_dir: Path, runner) -> None:
    def digest(d: Path) -> str:
        h = hashlib.sha256()
        for f in sorted(d.rglob("*")):
            if f.is_file():
                h.update(f.name.encode() + f.read_bytes())
        return h.hexdigest()

    args = ["--size", 96, "--crops-per-photo", 1]
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert invoke(runner, "prepare", photo_dir, "--out", tmp_path / name, "--seed", seed, *args).exit_code == 0
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_bad_photo_reported_rest_written(tmp_path: Path, photo_dir: Path, runner) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for f in sorted(photo_dir.iterdir())[:4]:
        (src / f.name).write_bytes(f.read_bytes())
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    res = invoke(runner, "prepare", src, "--out", tmp_path / "ds", "--size", 64, "--val-fraction", 0.2, "--test-fraction", 0.2)
    assert res.exit_code == 2
    assert "broken.png" in res.stderr and "not a readable image" in res.stderr
    total = sum(len(rows(tmp_path / "ds" / f"{s}.csv")) for s in ("train", "val", "test"))
    assert total == 4
