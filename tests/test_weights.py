"""Shipping weights: float16 on disk, the same network back, the recipe and any calibration kept."""

from __future__ import annotations

from pathlib import Path

import torch

from restoria.weights import load_model, read_metadata, ship


def test_ship_halves_the_file_and_keeps_the_model(tmp_path: Path, trained_run: Path) -> None:
    src = trained_run / "model.safetensors"
    dst = ship(src, tmp_path / "shipped.safetensors", {"chroma_gain": 1.7}, calibration={"split": "val"})
    assert dst.stat().st_size < 0.6 * src.stat().st_size
    meta = read_metadata(dst)
    assert meta["model"]["chroma_gain"] == 1.7 and meta["calibration"] == {"split": "val"}
    assert meta["config"] == read_metadata(src)["config"]  # the training recipe travels along
    a, b = load_model(src), load_model(dst)
    assert b.chroma_gain == 1.7
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        if x.is_floating_point():
            torch.testing.assert_close(y, x.half().float(), msg=name)
