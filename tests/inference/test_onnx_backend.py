"""The ONNX backend: exported graphs keep dynamic sizes and give the torch pipeline's output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import invoke
from PIL import Image

from restoria.imaging import to_gray
from restoria.inference import onnx_backend
from restoria.inference.onnx_backend import cached_export, graph_path
from restoria.inference.restorer import Restorer
from restoria.io import InputError


def test_onnx_restore_matches_torch(tmp_path: Path, trained_run: Path, photos: dict[str, np.ndarray], runner) -> None:
    res = invoke(runner, "export", "--weights", trained_run / "model.safetensors", "--out", tmp_path / "onnx")
    assert res.exit_code == 0, res.output
    exported = sorted(p.name for p in (tmp_path / "onnx").iterdir())
    assert exported == ["model.color.onnx", "model.fill.onnx"]
    gray = to_gray(photos["astronaut"])[:200, :328]  # not a multiple of 32: padded inside the pipeline
    torch_out = Restorer([trained_run / "model.safetensors"], tile=128)(gray)
    onnx_out = Restorer([tmp_path / "onnx" / "model.fill.onnx"], tile=128, backend="onnx")(gray)
    np.testing.assert_array_equal(onnx_out.mask, torch_out.mask)
    diff = np.abs(onnx_out.restored.astype(int) - torch_out.restored)
    assert diff.max() <= 2 and diff.mean() < 0.05


def test_predict_with_onnx_backend(tmp_path: Path, dataset: Path, trained_run: Path, runner, monkeypatch) -> None:
    monkeypatch.setenv("RESTORIA_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "pred"
    res = invoke(
        runner, "predict", "--data", dataset, "--out", out, "--weights", trained_run / "model.safetensors", "--backend", "onnx"
    )
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "cache" / "onnx").glob("*/model.fill.onnx"))) == 1  # exported once, cached
    pngs = sorted(out.glob("*.png"))
    assert pngs and all(Image.open(p).mode == "RGB" for p in pngs)


def test_missing_onnx_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing.fill.onnx: ONNX file not found"):
        Restorer([tmp_path / "nothing.fill.onnx"], backend="onnx")


def test_export_cache_follows_the_code(tmp_path: Path, trained_run: Path, monkeypatch) -> None:
    """The cache is keyed by the weights and the code that shapes the graphs: the same code reuses the
    export, changed code exports again rather than running a stale graph."""
    monkeypatch.setenv("RESTORIA_CACHE", str(tmp_path / "cache"))
    code = tmp_path / "network.py"
    code.write_text("def forward(): return 1\n")
    monkeypatch.setattr(onnx_backend, "_graph_code", lambda: [code])
    weights = trained_run / "model.safetensors"
    first = cached_export(weights)
    assert cached_export(weights) == first
    code.write_text("def forward(): return 2\n")
    second = cached_export(weights)
    assert second != first and all(graph_path(second, s).exists() for s in onnx_backend.STAGES)


@pytest.mark.parametrize("backend, heavy", [("onnx", []), ("torch", ["segmentation_models_pytorch", "timm", "torchvision"])])
def test_onnx_restore_does_not_import_the_network_libraries(tmp_path: Path, backend: str, heavy: list[str], monkeypatch) -> None:
    """Once its graphs are exported, the onnx backend restores a photo without importing timm,
    segmentation_models_pytorch or torchvision (about 1.5 s of every command); torch builds its networks
    with them."""
    monkeypatch.setenv("RESTORIA_CACHE", str(tmp_path / "cache"))
    Restorer(backend="onnx")  # the shipped networks, exported into the cache
    script = (
        "import sys; import numpy as np; from restoria.inference.restorer import Restorer; "
        f"Restorer(backend={backend!r})(np.full((96, 128), 128, np.uint8)); "
        "print(sorted(m for m in ('timm', 'segmentation_models_pytorch', 'torchvision') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=os.environ | {"RESTORIA_CACHE": str(tmp_path / "cache")})
    assert out.stdout.strip().splitlines()[-1] == str(heavy)


def test_an_unwritable_export_cache_is_one_clear_line(tmp_path: Path, photos: dict[str, np.ndarray], runner, monkeypatch) -> None:
    """The default backend exports on first use; where the cache cannot be written the command says
    which folder and what to do, and exits 2."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("RESTORIA_CACHE", str(blocker / "cache"))
    Image.fromarray(photos["coffee"]).save(tmp_path / "camera.png")
    res = invoke(runner, "restore", tmp_path / "camera.png", "--out", tmp_path / "out")
    assert res.exit_code == 2
    assert "cannot write the ONNX export cache" in res.output and "RESTORIA_CACHE" in res.output and str(blocker) in res.output
    assert not (tmp_path / "out" / "camera.png").exists()


def test_color_calibration_is_baked_into_its_own_export(tmp_path: Path, photos: dict[str, np.ndarray], runner, monkeypatch) -> None:
    """`color_calibration` 1 mutes the shipped colorizer (it takes back the lean toward rare vivid
    colours): less chroma over the photo. onnxruntime runs it from an export of its own, beside the
    default one, and gives the torch colours; exported graphs, which keep their settings, refuse it."""
    monkeypatch.setenv("RESTORIA_CACHE", str(tmp_path / "cache"))
    gray = to_gray(photos["grace_hopper"])
    off = {"enhancer": None, "real_segmenter": None}

    def chroma(rgb: np.ndarray) -> float:
        return float(np.abs(rgb.astype(float) - rgb.mean(-1, keepdims=True)).mean())

    vivid = Restorer(**off)(gray).restored
    muted = Restorer(**off, color_calibration=1.0)(gray).restored
    assert chroma(muted) < 0.8 * chroma(vivid)
    Restorer(**off, backend="onnx")
    onnx = Restorer(**off, backend="onnx", color_calibration=1.0)(gray).restored
    assert np.abs(onnx.astype(int) - muted).mean() < 0.05
    assert len(list((tmp_path / "cache" / "onnx").glob("*/model.color.onnx"))) == 2
    exported = next((tmp_path / "cache" / "onnx").glob("*/model.color.onnx"))
    with pytest.raises(InputError, match="keep the settings they were written with"):
        Restorer([exported], backend="onnx", color_calibration=1.0)
    Image.fromarray(photos["coffee"]).save(tmp_path / "camera.png")
    res = invoke(runner, "restore", tmp_path / "camera.png", "--out", tmp_path / "out", "--color-calibration", "1.5")
    assert res.exit_code == 2 and "--color-calibration" in res.output
