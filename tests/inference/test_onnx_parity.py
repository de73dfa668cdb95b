"""onnxruntime against torch, graph by graph, on inputs where each graph really runs: a damaged real
photo, a hue-drawing colorizer fed its noise field, and a refiner whose residual is not zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL

from restoria.data.damage import apply_damage
from restoria.fill import classical_fill
from restoria.imaging import to_gray, to_tensor
from restoria.inference.onnx_backend import OnnxRestorer, export_onnx
from restoria.inference.restorer import Restorer
from restoria.models import create_model
from restoria.models.two_stage.hue import noise_for
from restoria.weights import save_weights

MODEL = {**TINY_MODEL, "hue_bins": 180, "hue_strength": 1.0, "refine": "ns"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A refining, hue-drawing restorer with random weights (the refiner's zero-initialised head
    perturbed, so its residual counts), saved and exported: (weights, ONNX prefix)."""
    torch.manual_seed(0)
    cfg = dict(MODEL)
    model = create_model(cfg.pop("name"), **cfg)
    with torch.no_grad():
        for p in model.refiner.segmentation_head.parameters():
            p.normal_(0, 0.2)
    root = tmp_path_factory.mktemp("onnx")
    save_weights(model, root / "model.safetensors", MODEL)
    written = export_onnx(root / "model.safetensors", root, "model")
    assert sorted(p.name for p in written) == ["model.color.onnx", "model.fill.onnx", "model.refine.onnx"]
    return root / "model.safetensors", root / "model"


@pytest.fixture(scope="module")
def damaged(photos: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    gray = to_gray(photos["chelsea"])[:160, :224]
    return apply_damage(gray, np.random.default_rng(0))


def test_every_graph_matches_torch(exported: tuple[Path, Path], damaged: tuple[np.ndarray, np.ndarray]) -> None:
    from restoria.weights import load_model

    model, onnx = load_model(exported[0]), OnnxRestorer(exported[1])
    gray, mask = damaged
    x = to_tensor(gray)[None]
    hole = torch.from_numpy(mask > 0).float()[None, None]
    prefill = classical_fill(x, hole, "ns")
    noise = noise_for(x)
    with torch.inference_mode():
        pairs = {
            "fill": (model.fill_and_damage(x), onnx.fill_and_damage(x)),
            "color": (model.color(x, noise), onnx.color(x, noise)),
            "refine": (model.refine(prefill, hole), onnx.refine(prefill, hole)),
        }
    residual = (pairs["refine"][0] - prefill).abs()[hole > 0]
    assert residual.mean() > 1e-3  # the refiner's graph changes the fill: its parity is not a copy
    for name, (want, got) in pairs.items():
        assert want.shape == got.shape, name
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4, msg=name)


def test_pipeline_runs_the_refine_graph_the_same_way(exported: tuple[Path, Path], damaged: tuple[np.ndarray, np.ndarray]) -> None:
    """With the true mask given, a refining model's fill is its refine graph on the classical fill."""
    compare_pipelines(exported[0], Path(f"{exported[1]}.fill.onnx"), damaged, "auto")


def test_pipeline_runs_the_fill_graph_the_same_way(
    tmp_path: Path, trained_run: Path, damaged: tuple[np.ndarray, np.ndarray]
) -> None:
    """`--fill model`: U-Net #1's own fill, the fill graph, for a model that does not refine."""
    export_onnx(trained_run / "model.safetensors", tmp_path, "model")
    compare_pipelines(trained_run / "model.safetensors", tmp_path / "model.fill.onnx", damaged, "model")


def compare_pipelines(weights: Path, onnx: Path, damaged: tuple[np.ndarray, np.ndarray], fill: str) -> None:
    gray, mask = damaged
    kw = {"segmenter": None, "classifier": None, "fill": fill, "tile": 128}
    torch_out = Restorer([weights], **kw)(gray, mask)
    onnx_out = Restorer([onnx], backend="onnx", **kw)(gray, mask)
    hole = mask > 0
    assert np.abs(torch_out.inpainted[hole].astype(int) - gray[hole]).mean() > 2  # the hole was filled
    assert np.abs(onnx_out.inpainted.astype(int) - torch_out.inpainted).max() <= 1
    assert np.abs(onnx_out.restored.astype(int) - torch_out.restored).mean() < 0.05
