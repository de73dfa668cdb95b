"""The enhance stage's plumbing with enhancers whose answer is known: luma is corrected and chroma kept,
a photo the network barely changes passes through untouched, onnxruntime matches torch, and
`restore --save-stages` writes `<name>.enhanced.png` (`--enhancer none` switches the stage off).
The shipped enhancer is measured in test_shipped_quality.py; these are built here, with answers known."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import invoke

from restoria.imaging import to_gray
from restoria.inference.enhancer import PhotoEnhancer
from restoria.inference.restorer import Restorer
from restoria.io import read_image, write_png
from restoria.models.enhancer import Enhancer
from restoria.weights import save_weights


def enhancer_file(path: Path, shift: float) -> Path:
    """An Enhancer that brightens luma by `shift` gray levels everywhere (0: the untrained identity)."""
    net = Enhancer()
    with torch.no_grad():
        net.head[-1].bias.fill_(shift / 255)
    save_weights(net, path, {"name": "enhancer"})
    return path


@pytest.fixture(scope="module")
def brighter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return enhancer_file(tmp_path_factory.mktemp("enh") / "brighter.safetensors", 10.0)


def test_the_luma_correction_is_applied_and_the_colour_kept(brighter: Path, photos: dict[str, np.ndarray]) -> None:
    rgb = photos["coffee"][:200, :300]
    out = PhotoEnhancer(brighter)(rgb)
    ycc_in, ycc_out = (cv2.cvtColor(x, cv2.COLOR_RGB2YCrCb).astype(float) for x in (rgb, out))
    unclipped = rgb.max(-1) < 235
    assert np.abs(ycc_out[..., 0] - ycc_in[..., 0] - 10)[unclipped].mean() < 0.6  # +10 luma
    assert np.abs(ycc_out[..., 1:] - ycc_in[..., 1:])[unclipped].mean() < 0.6  # chroma as it was
    gray = to_gray(rgb)
    assert np.abs(PhotoEnhancer(brighter)(gray).astype(float) - gray - 10)[gray < 235].mean() < 0.6


def test_a_photo_the_network_leaves_alone_passes_through_bit_exact(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    identity = PhotoEnhancer(enhancer_file(tmp_path / "identity.safetensors", 0.0))
    rgb = photos["astronaut"]
    assert (identity(rgb) == rgb).all() and identity.last_change < identity.min_change
    subtle = PhotoEnhancer(enhancer_file(tmp_path / "subtle.safetensors", 0.5))  # below MIN_CHANGE: untouched
    assert (subtle(rgb) == rgb).all()


def test_onnx_matches_torch(brighter: Path, photos: dict[str, np.ndarray], tmp_path: Path, runner) -> None:
    res = invoke(runner, "export", "--weights", brighter, "--out", tmp_path)
    assert res.exit_code == 0, res.output
    gray = to_gray(photos["chelsea"])[:200, :264]
    want, got = PhotoEnhancer(brighter).correction(gray), PhotoEnhancer(tmp_path / "brighter.onnx", backend="onnx").correction(gray)
    assert np.abs(want - got).max() < 0.05


def test_restore_writes_the_enhanced_stage_and_can_switch_it_off(brighter: Path, photos: dict[str, np.ndarray], tmp_path: Path, runner) -> None:
    gray = to_gray(photos["camera"] if "camera" in photos else photos["rocket"])[:160, :224]
    write_png(tmp_path / "in" / "photo.png", gray)
    res = invoke(runner, "restore", tmp_path / "in", "--out", tmp_path / "on", "--save-stages", "--enhancer", brighter)
    assert res.exit_code == 0, res.output
    enhanced = read_image(tmp_path / "on" / "photo.enhanced.png", "L").astype(float)
    assert np.abs(enhanced - gray - 10)[gray < 235].mean() < 0.6
    res = invoke(runner, "restore", tmp_path / "in", "--out", tmp_path / "off", "--save-stages", "--enhancer", "none")
    assert res.exit_code == 0, res.output
    assert (read_image(tmp_path / "off" / "photo.enhanced.png", "L") == gray).all()


def test_the_stage_is_skipped_when_not_asked(brighter: Path, photos: dict[str, np.ndarray]) -> None:
    gray = to_gray(photos["chelsea"])[:128, :128]
    r = Restorer(enhancer=brighter, segmenter=None)
    assert (r(gray, stages=("detect", "fill")).enhanced == gray).all()
    assert (r(gray, stages=("detect", "enhance", "fill")).enhanced != gray).any()


def levels_file(path: Path, black: float, white: float, local: bool = True) -> Path:
    """An Enhancer whose levels path moves the black and white points by fixed shifts (gray levels; its
    U-Net, when it has one, left the identity)."""
    net = Enhancer(levels=True, local=local)
    with torch.no_grad():
        net.levels.mlp[-1].bias.copy_(torch.tensor([black, white]) / 255)
    save_weights(net, path, {"name": "enhancer", "levels": True, "local": local})
    return path


@pytest.mark.parametrize("local", [True, False])
def test_the_levels_path_maps_every_tile_alike_and_onnx_matches(tmp_path: Path, photos: dict[str, np.ndarray], runner, local: bool) -> None:
    """A faded photo (contrast 0.6 around a lifted black) is stretched back by the levels path with one
    map for the whole photo, even when it is run in tiles; onnxruntime gives the same correction."""
    gray = to_gray(photos["astronaut"])
    faded = (gray * 0.6 + 0.4 * 100).round().astype(np.uint8)
    (b0, w0), (b1, w1) = (np.percentile(x, [1, 99]) for x in (faded, gray))  # the view's quantiles are close to these
    weights = levels_file(tmp_path / "levels.safetensors", b1 - b0, w1 - w0, local)
    whole = PhotoEnhancer(weights, tile=None)(faded).astype(float)
    tiled = PhotoEnhancer(weights, tile=128)(faded).astype(float)
    unclipped = (gray > 2) & (gray < 253)
    assert np.abs(faded.astype(float) - gray)[unclipped].mean() > 15
    assert np.abs(whole - gray)[unclipped].mean() < 3.0
    assert np.abs(tiled - whole).max() <= 1
    res = invoke(runner, "export", "--weights", weights, "--out", tmp_path)
    assert res.exit_code == 0, res.output
    crop = faded[:200, :264]
    want = PhotoEnhancer(weights).correction(crop)
    got = PhotoEnhancer(tmp_path / "levels.onnx", backend="onnx").correction(crop)
    assert np.abs(want - got).max() < 0.05


def test_the_levels_view_leaves_the_found_damage_out(photos: dict[str, np.ndarray]) -> None:
    """A lost region's flat black is not the print's black point: the view the levels are read from
    fills the damaged cells from their neighbours, so its quantiles stay near the undamaged photo's."""
    from restoria.imaging import to_tensor
    from restoria.models.enhancer.levels import quantiles

    gray = to_gray(photos["chelsea"])
    damaged, mask = gray.copy(), np.zeros_like(gray)
    mask[60:220, 80:300] = 255
    damaged[mask > 0] = 0
    clean_q, blind_q, aware_q = (
        quantiles(PhotoEnhancer.view(to_tensor(img)[None], m))[0] * 255
        for img, m in ((gray, None), (damaged, None), (damaged, mask))
    )
    assert np.abs(blind_q - clean_q)[:4].mean() > 20  # the black patch drags the dark quantiles down
    assert np.abs(aware_q - clean_q).max() < 0.35 * np.abs(blind_q - clean_q).max()
