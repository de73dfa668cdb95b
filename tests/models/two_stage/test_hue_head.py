"""The two-stage restorer's hue head: it starts from the training photos' hue histogram, its draws set
the colour's hue exactly, it learns a real photo's hues, and tiles of a photo draw from one field."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import TINY_MODEL

from restoria.imaging import to_gray
from restoria.inference.colour import to_uint8_keep_hue
from restoria.inference.restorer import Restorer
from restoria.losses import hue_classification_loss
from restoria.metrics.score import hist_similarity
from restoria.models import create_model
from restoria.models.two_stage.hue import BINS, float_hue, hue_index, smooth_uniform
from restoria.weights import save_weights

HUE_MODEL = {**TINY_MODEL, "hue_bins": BINS, "hue_strength": 1.0}


def tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255


def test_the_head_starts_from_the_prior(photos: dict[str, np.ndarray]) -> None:
    net = create_model(**HUE_MODEL).eval()
    prior = torch.bincount(hue_index(tensor(photos["chelsea"])).flatten(), minlength=BINS).float()
    net.set_hue_prior(prior)
    probs = torch.softmax(net.colorize_heads(torch.rand(1, 1, 64, 64))[1], dim=1)
    assert probs.shape == (1, BINS, 16, 16)
    torch.testing.assert_close(probs[0, :, 5, 7], prior / prior.sum(), atol=1e-4, rtol=0)


def test_drawn_hue_is_the_colours_hue_and_luma_stays(photos: dict[str, np.ndarray]) -> None:
    """A head sure of one hue (bin 100) colours every pixel at that hue and keeps the luma; at strength
    0 the colour is the regression head's alone."""
    torch.manual_seed(0)
    net = create_model(**HUE_MODEL).eval()
    certain = torch.zeros(BINS)
    certain[100] = 1
    net.set_hue_prior(certain)
    gray = torch.from_numpy(to_gray(photos["coffee"])[:128, :128] / 255.0).float()[None, None]
    with torch.no_grad():
        rgb = net.to_rgb(gray, net.color(gray))[0].permute(1, 2, 0).numpy() * 255
        in_gamut = (rgb.min(-1) > 0.5) & (rgb.max(-1) < 254.5)  # clipping at 0 or 255 changes hue and luma
        colored = in_gamut & (rgb.max(-1) - rgb.min(-1) > 1)
        assert colored.mean() > 0.3
        # the prior is clamped at 1e-6 per bin: ~2e-4 of the 4x4 cells draw elsewhere, blended over ~6x6 pixels
        assert (np.abs(float_hue(rgb)[colored] - 100) < 0.5).mean() > 0.99
        assert np.allclose((rgb @ [0.299, 0.587, 0.114])[in_gamut], gray[0, 0].numpy()[in_gamut] * 255, atol=0.5)
        net.hue_strength = 0.0
        raw, _ = net.colorize_heads(gray)
        torch.testing.assert_close(net.color(gray), net.chroma(raw, gray.shape[-2:]))


def test_temperature_spreads_the_drawn_hues(photos: dict[str, np.ndarray]) -> None:
    """Temperature 2 on a head that gives hue 20 90% and hue 100 10% draws exactly what temperature 1
    draws from the square root of that distribution, and the share of hue 100 more than doubles."""
    gray = torch.from_numpy(to_gray(photos["coffee"])[:256, :256] / 255.0).float()[None, None]

    def colour(prior: torch.Tensor, temperature: float) -> np.ndarray:
        torch.manual_seed(0)
        net = create_model(**HUE_MODEL, hue_temperature=temperature).eval()
        net.set_hue_prior(prior)
        with torch.no_grad():
            return net.to_rgb(gray, net.color(gray))[0].permute(1, 2, 0).numpy() * 255

    def share_of_100(rgb: np.ndarray) -> float:
        colored = (rgb.min(-1) > 0.5) & (rgb.max(-1) < 254.5) & (rgb.max(-1) - rgb.min(-1) > 1)
        hue = float_hue(rgb)[colored]  # between two cells the direction is blended: count the nearer
        return float((np.abs(hue - 100) < np.abs(hue - 20)).mean())

    prior = torch.full((BINS,), 1e-5)
    prior[20], prior[100] = 0.9, 0.1
    hot = colour(prior, 2.0)
    np.testing.assert_allclose(hot, colour(prior.sqrt(), 1.0), atol=1e-3)
    assert share_of_100(hot) > 2 * share_of_100(colour(prior, 1.0))


def test_temperature_must_be_positive() -> None:
    with pytest.raises(ValueError, match="hue_temperature"):
        create_model(**HUE_MODEL, hue_temperature=0.0)


def test_the_head_learns_a_photos_hues(photos: dict[str, np.ndarray]) -> None:
    """Training only the hue loss on a real photo lowers it, and the drawn colours' hue histogram moves
    towards the photo's (the score's hue term rises)."""
    torch.manual_seed(0)
    rgb = photos["chelsea"][::2, ::2][:128, :192].copy()
    gray = torch.from_numpy(to_gray(rgb) / 255.0).float()[None, None]
    net = create_model(**HUE_MODEL)
    net.set_hue_prior(torch.ones(BINS))
    net.inpainter.requires_grad_(False)

    def score() -> float:
        net.eval()
        with torch.no_grad():
            pred = to_uint8_keep_hue(net.to_rgb(gray, net.color(gray))[0])
        net.train()
        return hist_similarity(rgb, pred)

    before = score()
    opt = torch.optim.Adam([p for p in net.colorizer.parameters()] + list(net.hue_head.parameters()), lr=3e-3)
    losses = []
    for _ in range(60):
        _, logits = net.colorize_heads(gray)
        loss = hue_classification_loss(logits, tensor(rgb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 1.0
    assert score() > before + 0.3


def test_tiles_draw_from_one_noise_field(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    """The pipeline makes the noise field for the whole photo: tiled and untiled restores agree as
    closely as for a model without a hue head."""
    torch.manual_seed(0)
    net = create_model(**HUE_MODEL)
    net.set_hue_prior(torch.bincount(hue_index(tensor(photos["chelsea"])).flatten(), minlength=BINS).float())
    path = tmp_path / "hue.safetensors"
    save_weights(net, path, HUE_MODEL)
    gray = to_gray(photos["coffee"])
    whole, tiled = (Restorer([path], tile=t, segmenter=None, classifier=None)(gray) for t in (None, 256))
    a, b = whole.colorized.astype(float), tiled.colorized.astype(float)
    assert np.abs(a - b).mean() < 6.0
    hue = lambda x: cv2.cvtColor(x, cv2.COLOR_RGB2HSV)[..., 0]  # noqa: E731
    assert (hue(whole.colorized) == hue(tiled.colorized)).mean() > 0.7
    assert smooth_uniform(gray.shape).shape[-2:] == gray.shape


def test_onnx_backend_draws_the_same_hues(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    """The exported colour graph takes the noise field as a second input: onnxruntime's restore equals
    torch's."""
    torch.manual_seed(0)
    net = create_model(**HUE_MODEL)
    net.set_hue_prior(torch.bincount(hue_index(tensor(photos["chelsea"])).flatten(), minlength=BINS).float())
    path = tmp_path / "hue.safetensors"
    save_weights(net, path, HUE_MODEL)
    gray = to_gray(photos["astronaut"])[::2, ::2]
    torch_out, onnx_out = (Restorer([path], backend=b, segmenter=None, classifier=None)(gray).colorized for b in ("torch", "onnx"))
    assert np.abs(torch_out.astype(float) - onnx_out).mean() < 0.5
