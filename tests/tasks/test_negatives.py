"""Hard negatives: `restoria mine` finds where a segmenter fires on a dataset's clean photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
from typer.testing import CliRunner

from restoria.data.base import layout_rows
from restoria.io import read_image, write_png
from restoria.weights import default_weights
from conftest import invoke


def test_mined_points_lie_where_the_segmenter_fires(tmp_path: Path, dataset: Path, runner: CliRunner) -> None:
    """Train "ground truth" that secretly carries the competition's polygons: the shipped segmenter
    fires on every one of those photos, and their mined points lie on or beside the polygons."""
    data = tmp_path / "ds"
    shutil.copytree(dataset, data)
    rows = layout_rows(data, "train")
    masks = {}
    for i, row in enumerate(rows):
        if i % 2 == 0:  # half the photos get their damaged input as "clean" photo
            damaged = read_image(row.input, "L")
            write_png(row.gt, np.repeat(damaged[..., None], 3, -1))
            masks[Path(row.gt).name] = read_image(row.mask, "L") > 0
    out = tmp_path / "negatives.json"
    res = invoke(runner, "mine", "--weights", default_weights("segment.safetensors"), "--data", data, "--out", out, "--per-photo", 16)
    assert res.exit_code == 0, res.output
    points = json.loads(out.read_text())
    assert set(masks) <= set(points)
    near = [masks[name][max(0, y - 3) : y + 4, max(0, x - 3) : x + 4].any() for name in masks for y, x in points[name]]
    assert np.mean(near) > 0.9 and all(len(p) <= 16 for p in points.values())
    # photos enlarged 2x and mined shrunk by half: the segmenter sees what it saw above, and the points
    # name the enlarged photo's own pixels
    for name in masks:
        gt = data / "train_gt" / name
        write_png(gt, cv2.resize(read_image(gt, "RGB"), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))
        masks[name] = cv2.resize(masks[name].astype(np.uint8), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST) > 0
    res = invoke(runner, "mine", "--weights", default_weights("segment.safetensors"), "--data", data, "--out", out, "--per-photo", 16, "--shrink", 0.5)
    assert res.exit_code == 0, res.output
    points = json.loads(out.read_text())
    assert set(masks) <= set(points)
    near = [masks[name][max(0, y - 4) : y + 5, max(0, x - 4) : x + 5].any() for name in masks for y, x in points[name]]
    assert np.mean(near) > 0.9
    assert max(max(y, x) for name in masks for y, x in points[name]) >= 128  # beyond the shrunk photo's side


def test_mine_names_a_missing_weights_file(tmp_path: Path, dataset: Path, runner: CliRunner) -> None:
    res = invoke(runner, "mine", "--weights", tmp_path / "nope.safetensors", "--data", dataset, "--out", tmp_path / "n.json")
    assert res.exit_code == 2 and "nope.safetensors" in res.output
    assert not (tmp_path / "n.json").exists()
