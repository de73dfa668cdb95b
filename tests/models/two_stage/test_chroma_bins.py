"""Colour as classification over chroma bins: encoding, the prior and its rebalancing weights, the
annealed-mean decoding, and a colorizer that learns a real photo's colours with it."""

from __future__ import annotations

import numpy as np
import torch
from kornia.color import rgb_to_ycbcr

from restoria.imaging import to_tensor
from restoria.models import create_model
from restoria.models.two_stage.chroma_bins import ChromaBins

TINY_BINS = {
    "encoder": "mobilenet_v2",
    "decoder_channels": [32, 16, 16, 8, 8],
    "color_space": "ycbcr",
    "color_head": "bins",
    "chroma_bins": 12,
}


def photo_chroma(photo: np.ndarray, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """A real photo as (gray Y, Cb/Cr offsets) tensors, centre-cropped."""
    h, w = photo.shape[:2]
    crop = photo[(h - size) // 2 : (h + size) // 2, (w - size) // 2 : (w + size) // 2]
    ycc = rgb_to_ycbcr(to_tensor(crop)[None])
    return ycc[:, :1], ycc[:, 1:] - 0.5


def test_soft_encoding_peaks_at_the_nearest_bin() -> None:
    bins = ChromaBins(bins=8)
    chroma = bins.centers[[5, 40]].T.reshape(1, 2, 1, 2)  # two pixels exactly on bin centres
    target = bins.encode(chroma)
    torch.testing.assert_close(target.sum(1), torch.ones(1, 1, 2))
    assert target[0, :, 0, 0].argmax() == 5 and target[0, :, 0, 1].argmax() == 40
    assert bins.index(chroma).flatten().tolist() == [5, 40]


def test_annealed_mean_goes_from_mean_to_mode() -> None:
    bins = ChromaBins(bins=8)
    logits = torch.full((1, bins.classes, 1, 1), -10.0)
    logits[0, 9], logits[0, 50] = 2.0, 1.5
    mode = bins.decode(logits, temperature=0.01)[0, :, 0, 0]
    torch.testing.assert_close(mode, bins.centers[9], atol=1e-4, rtol=0)
    p = torch.softmax(logits[0, :, 0, 0], 0)
    torch.testing.assert_close(bins.decode(logits, temperature=1.0)[0, :, 0, 0], p @ bins.centers)


def test_annealed_mean_of_every_pixel_of_a_batch() -> None:
    """Decoding with the bins moved last (for onnxruntime's sake) is the annealed mean of each pixel,
    in each image of a batch, where it belongs."""
    bins = ChromaBins(bins=8)
    logits = torch.randn(2, bins.classes, 3, 5, generator=torch.Generator().manual_seed(0)) * 3
    expected = torch.einsum("bqhw,qc->bchw", torch.softmax(logits / 0.5, dim=1), bins.centers)
    torch.testing.assert_close(bins.decode(logits, temperature=0.5), expected)


def test_rebalancing_weights_follow_the_formula(photos: dict[str, np.ndarray]) -> None:
    bins = ChromaBins(bins=16, rebalance=0.5)
    bins.set_prior([photo_chroma(photos[n], 128)[1] for n in ("chelsea", "coffee", "astronaut")])
    p = bins.prior
    assert torch.isclose(p.sum(), torch.tensor(1.0)) and (p > 0).all()
    w = bins.class_weights()
    expected = 1 / (0.5 * p + 0.5 / bins.classes)
    torch.testing.assert_close(w, expected / (p * expected).sum())
    torch.testing.assert_close((p * w).sum(), torch.tensor(1.0))
    assert w[p.argmax()] < 1 < w[p.argmin()]  # common colours weigh less, rare ones more


def test_bins_colorizer_keeps_luma_and_learns_a_photo(photos: dict[str, np.ndarray]) -> None:
    torch.manual_seed(0)
    net = create_model("two_stage", **TINY_BINS)
    gray, chroma = photo_chroma(photos["chelsea"])
    net.bins.set_prior([chroma])
    rgb = net.colorize(gray)
    # luma passes through exactly where the colour is in gamut (nothing clamped)
    inside = ((rgb > 0.01) & (rgb < 0.99)).all(1, keepdim=True)
    torch.testing.assert_close(rgb_to_ycbcr(rgb)[:, :1][inside], gray[inside], atol=1e-4, rtol=0)
    # the soft targets' own entropy is the floor of the cross-entropy: measure the distance to it
    target = net.bins.encode(torch.nn.functional.adaptive_avg_pool2d(chroma, 16))
    weight = net.bins.class_weights()[net.bins.index(torch.nn.functional.adaptive_avg_pool2d(chroma, 16))]
    floor = float((weight * -(target * target.clamp_min(1e-12).log()).sum(1)).sum() / weight.sum())
    opt = torch.optim.Adam(net.colorizer.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = net.bins.loss(net.colorize_raw(gray), chroma)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] - floor < 0.5 * (losses[0] - floor), (floor, losses)
    # the learnt colours are the cat's: its mean chroma, not neutral gray
    with torch.no_grad():
        got = net.chroma(net.colorize_raw(gray), gray.shape[-2:]).mean((0, 2, 3))
    want = chroma.mean((0, 2, 3))
    assert torch.linalg.vector_norm(got - want) < 0.5 * torch.linalg.vector_norm(want)


def test_calibrated_decoding_takes_the_rebalancing_back() -> None:
    """One input seen with two colours, a common near-neutral one 70% of the time and a rare vivid red
    30%: logits trained with the rebalanced loss lean toward the red, since it weighs more. Decoded
    with `calibration` 1 (at temperature 1, the mean) they give back the colours' true mean; without it,
    a colour pulled toward the red."""
    bins = ChromaBins(bins=16, rebalance=0.5, temperature=1.0)
    neutral, red = torch.tensor([0.01, 0.02]), torch.tensor([-0.15, 0.3])
    chroma = neutral.view(1, 2, 1, 1).repeat(1, 1, 10, 10)
    chroma[..., :3, :] = red.view(1, 2, 1, 1)  # 30 of the 100 pixels
    bins.set_prior([chroma.repeat(1, 1, 1, 3)[..., :20]] + [neutral.view(1, 2, 1, 1).expand(1, 2, 40, 40)])  # red rare in the prior
    cell = torch.zeros(1, bins.classes, 1, 1, requires_grad=True)
    opt = torch.optim.Adam([cell], lr=0.1)
    for _ in range(400):
        opt.zero_grad()
        bins.loss(cell.expand(-1, -1, 10, 10), chroma).backward()
        opt.step()
    logits = cell.detach()
    truth = 0.7 * neutral + 0.3 * red
    plain = bins.decode(logits)[0, :, 0, 0]
    bins.calibration = 1.0
    calibrated = bins.decode(logits)[0, :, 0, 0]
    assert (calibrated - truth).norm() < 0.02
    assert (plain - truth).norm() > 2 * (calibrated - truth).norm()
    assert (plain - red).norm() < (truth - red).norm()  # the plain decoding leans toward the rare red
