"""onnxruntime against torch for the networks the pipeline runs besides the restorer: the shipped damage
segmenter, damaged/clean classifier and x2 super-resolution model, each on a real photo where its graph
really runs (competition damage for the detectors, a tiled photo for the tiled ones)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import invoke

from restoria.data.damage import apply_damage
from restoria.imaging import to_gray, to_tensor
from restoria.inference.detectors import DamageClassifier, Segmenter
from restoria.inference.onnx_backend import OnnxRestorer
from restoria.inference.onnx_nets import OnnxClassifier, OnnxEnhancer, OnnxSegmenter, OnnxUpscaler
from restoria.inference.restorer import Restorer
from restoria.inference.upscaler import Upscaler
from restoria.io import InputError
from restoria.models import create_model
from restoria.weights import default_weights, save_weights

SHIPPED = ("segment", "classify", "sr_x2")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, runner) -> Path:
    """`restoria export` of each shipped network: one NAME.onnx each, the kind told from its metadata."""
    out = tmp_path_factory.mktemp("onnx_nets")
    for name in SHIPPED:
        res = invoke(runner, "export", "--weights", default_weights(f"{name}.safetensors"), "--out", out)
        assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.onnx" for n in SHIPPED)
    return out


@pytest.fixture(scope="module")
def damaged(photos: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A real photo's gray crop (not a multiple of 32), with competition damage: (clean, damaged, mask)."""
    gray = to_gray(photos["chelsea"])[:200, :264]
    return (gray, *apply_damage(gray, np.random.default_rng(0)))


def test_segmenter_matches_torch(exported: Path, damaged: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    _, gray, mask = damaged
    want_seg = Segmenter(default_weights("segment.safetensors"))
    got_seg = Segmenter(exported / "segment.onnx", backend="onnx")
    assert isinstance(got_seg.net, OnnxSegmenter) and got_seg.net.meta["model"] == want_seg.net.meta["model"]
    x = to_tensor(gray)[None]
    want, got = want_seg(x, tile=128), got_seg(x, tile=128)  # tiled: 200 x 264 on 128-pixel tiles
    assert got.shape == want.shape == (1, 1, 200, 264)
    assert (got - want).abs().max() < 1e-3
    found, hole = want[0, 0].numpy() > 0.5, mask > 0
    assert (found & hole).sum() / (found | hole).sum() > 0.5  # the damage is found: not a trivial map


def test_classifier_matches_torch(exported: Path, damaged: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    clean, gray, _ = damaged
    want_cls = DamageClassifier(default_weights("classify.safetensors"))
    got_cls = DamageClassifier(exported / "classify.onnx", backend="onnx")
    assert isinstance(got_cls.net, OnnxClassifier) and got_cls.size == want_cls.size == 512
    want, got = [want_cls(clean), want_cls(gray)], [got_cls(clean), got_cls(gray)]
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert got[0] < 0.1 and got[1] > 0.9, got  # clean and damaged told apart: not a constant


def test_upscaler_matches_torch(exported: Path, photos: dict[str, np.ndarray]) -> None:
    rgb = photos["astronaut"][:100, :132]
    want_up, got_up = Upscaler(2, tile=64), Upscaler(2, exported / "sr_x2.onnx", tile=64, backend="onnx")
    assert isinstance(got_up.model, OnnxUpscaler) and got_up.model.scale == 2
    for image in (rgb, to_gray(rgb)):  # tiled (64-pixel tiles), colour and gray
        want, got = want_up(image), got_up(image)
        assert got.shape == want.shape == (200, 264, *image.shape[2:])
        assert np.abs(got.astype(int) - want).max() < 2
    x = to_tensor(rgb[:96, :128])[None]
    with torch.inference_mode():
        want, got = want_up.model(x), got_up.model(x)
    residual = want - F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    assert residual.abs().mean() > 1e-3  # the network adds to its bicubic skip: the graph's convolutions count
    assert (got - want).abs().max() < residual.abs().mean() / 100


def test_wrong_kind_of_network_is_named(exported: Path) -> None:
    with pytest.raises(InputError, match="classifier weights, not segmenter weights"):
        Segmenter(exported / "classify.onnx", backend="onnx")
    with pytest.raises(InputError, match="is a x2 super-resolution model"):
        Upscaler(4, exported / "sr_x2.onnx", backend="onnx")


def test_export_refuses_other_networks(tmp_path: Path, runner) -> None:
    save_weights(create_model("patchgan"), tmp_path / "critic.safetensors", {"name": "patchgan"})
    res = invoke(runner, "export", "--weights", tmp_path / "critic.safetensors", "--out", tmp_path / "onnx")
    assert res.exit_code == 2 and "'patchgan' model: only restorers, segmenters" in res.output


def test_restorer_runs_every_network_on_onnx(
    tmp_path: Path, trained_run: Path, damaged: tuple[np.ndarray, np.ndarray, np.ndarray], monkeypatch
) -> None:
    """`backend="onnx"` builds onnxruntime twins of the restorer, both segmenters, classifier, upscaler and
    enhancer (exported from their weights into the cache) and restores as the torch backend does."""
    monkeypatch.setenv("RESTORIA_CACHE", str(tmp_path / "cache"))
    _, gray, _ = damaged
    kw = {"weights": [trained_run / "model.safetensors"], "tile": 128, "upscale": 2}
    want, onnx = Restorer(**kw), Restorer(backend="onnx", **kw)
    assert isinstance(onnx.models[0], OnnxRestorer)
    assert isinstance(onnx.segmenter.net, OnnxSegmenter)
    assert isinstance(onnx.classifier.net, OnnxClassifier)
    assert isinstance(onnx.upscaler.model, OnnxUpscaler)
    assert isinstance(onnx.enhancer.net, OnnxEnhancer)
    assert isinstance(onnx.real_segmenter.net, OnnxSegmenter)
    assert onnx.real_segmenter.single_view_threshold == want.real_segmenter.single_view_threshold != 0.5  # its file's threshold, on onnx too
    assert len(list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))) == 5  # 2 segmenters, classifier, upscaler, enhancer
    with torch.inference_mode():
        a, b = want(gray), onnx(gray)
    assert a.p_damaged > 0.5 and a.mask.any()  # the classifier lets it through and the segmenter finds damage
    assert abs(a.p_damaged - b.p_damaged) < 1e-4
    assert (a.mask != b.mask).mean() < 1e-3
    for stage in ("restored", "upscaled"):
        diff = np.abs(getattr(a, stage).astype(int) - getattr(b, stage))
        assert diff.mean() < 0.1, (stage, diff.mean())
