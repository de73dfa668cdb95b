"""Super-resolution in use: tiling at the output scale, the shipped SR weights, `restoria upscale` and
`restoria restore --upscale`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import invoke
from PIL import Image

from restoria.data.superres import bicubic_down, bicubic_up
from restoria.imaging import to_tensor
from restoria.inference.tiling import run_tiled
from restoria.inference.upscaler import Upscaler
from restoria.metrics.superres import sr_scores


@pytest.mark.parametrize("scale", [2, 4])
def test_tiles_are_placed_and_blended_at_the_output_scale(scale: int) -> None:
    x = torch.rand(1, 3, 150, 97)
    nearest = lambda t: F.interpolate(t, scale_factor=scale, mode="nearest")
    whole = run_tiled(nearest, x, None, scale=scale)
    tiled = run_tiled(nearest, x, tile=64, overlap=16, scale=scale)
    assert whole.shape == tiled.shape == (1, 3, 150 * scale, 97 * scale)
    assert torch.allclose(tiled, whole, atol=1e-6)


@pytest.mark.parametrize("scale", [2, 4])
def test_shipped_model_keeps_a_constant_photo_constant(scale: int) -> None:
    up = Upscaler(scale)
    b = 4 * scale  # the convolutions' zero padding reaches a few pixels in from the border
    for level in (0, 40, 128, 220, 255):
        out = up(np.full((48, 64, 3), level, np.uint8)).astype(int)
        assert out.shape == (48 * scale, 64 * scale, 3)
        assert np.abs(out[b:-b, b:-b] - level).max() <= 1 and np.abs(out - level).max() <= 4, level


def test_shipped_x2_beats_bicubic_on_a_photo_it_never_saw(photos: dict[str, np.ndarray]) -> None:
    hr = to_tensor(photos["chelsea"][:256, :384])[None]
    lr = bicubic_down(hr, 2)
    up = Upscaler(2, tile=64)  # tiled, as on a large photo
    sr = to_tensor(up((lr[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)))[None]
    gain = float(sr_scores(sr, hr, 2)["psnr"] - sr_scores(bicubic_up(lr, 2), hr, 2)["psnr"])
    assert gain > 0.5, gain


def test_upscale_command(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(photos["astronaut"][:90, :70]).save(src / "colour.png")
    Image.fromarray(photos["coffee"][:50, :60]).convert("L").save(src / "gray.png")
    (src / "broken.png").write_bytes(b"not a png")
    res = invoke(runner, "upscale", src, "--out", tmp_path / "out", "--scale", 2)
    assert res.exit_code == 2 and "broken.png" in res.stderr
    colour, gray = Image.open(tmp_path / "out" / "colour.png"), Image.open(tmp_path / "out" / "gray.png")
    assert (colour.mode, colour.size) == ("RGB", (140, 180)) and (gray.mode, gray.size) == ("L", (120, 100))
    res = invoke(runner, "upscale", src / "colour.png", "--out", tmp_path / "out4", "--factor", 4)
    assert res.exit_code == 0 and Image.open(tmp_path / "out4" / "colour.png").size == (280, 360)
    res = invoke(runner, "upscale", src / "colour.png", "--out", tmp_path / "out3", "--scale", 3)
    assert res.exit_code == 2 and "no x3 super-resolution weights" in res.stderr


def test_restore_upscale_is_the_last_stage(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    Image.fromarray(photos["rocket"][:100, :130]).convert("L").save(tmp_path / "old.png")
    res = invoke(runner, "restore", tmp_path / "old.png", "--out", tmp_path / "out", "--upscale", 2, "--save-stages")
    assert res.exit_code == 0, res.output
    final = Image.open(tmp_path / "out" / "old.png")
    before = Image.open(tmp_path / "out" / "old.restored.png")
    assert final.size == (260, 200) and before.size == (130, 100)
    for stage in (".mask", ".inpainted", ".colorized"):
        assert Image.open(tmp_path / "out" / f"old{stage}.png").size == (130, 100)
    # super-resolution adds detail, it does not repaint: shrunk back, the result is the restored photo
    small = np.asarray(final.resize(before.size, Image.BICUBIC)).astype(int)
    assert np.abs(small - np.asarray(before).astype(int)).mean() < 3.0


def test_upscale_command_on_onnxruntime_matches_torch(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    Image.fromarray(photos["astronaut"][100:164, 150:230]).save(tmp_path / "face.png")
    for backend in ("torch", "onnx"):
        res = invoke(runner, "upscale", tmp_path / "face.png", "--out", tmp_path / backend, "--backend", backend)
        assert res.exit_code == 0, res.stderr
    torch_out, onnx_out = (np.asarray(Image.open(tmp_path / b / "face.png"), np.int16) for b in ("torch", "onnx"))
    assert torch_out.shape == (128, 160, 3) and np.abs(torch_out - onnx_out).max() <= 1
    res = invoke(runner, "upscale", tmp_path / "face.png", "--out", tmp_path / "x", "--backend", "tensorrt")
    assert res.exit_code == 2 and "backend must be one of" in res.stderr
