"""Focal and dice losses against their formulas written out, and the config-weighted sum of them."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from restoria.losses import binary_focal_loss, segmentation_loss, segmentation_loss_terms, soft_dice_loss


def focal_by_formula(logits: torch.Tensor, target: torch.Tensor, alpha: float, gamma: float) -> float:
    """FL = -alpha_t (1 - p_t)^gamma log(p_t), element by element in float64, then the mean."""
    total = 0.0
    for z, t in zip(logits.flatten().tolist(), target.flatten().tolist()):
        p = 1 / (1 + math.exp(-z))
        p_t = p if t == 1 else 1 - p
        alpha_t = alpha if t == 1 else 1 - alpha
        total += -alpha_t * (1 - p_t) ** gamma * math.log(p_t)
    return total / logits.numel()


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (0.5, 1.0), (0.9, 3.5)])
def test_focal_matches_the_formula(alpha: float, gamma: float) -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 1, 5, 7, generator=g) * 4
    target = (torch.rand(2, 1, 5, 7, generator=g) > 0.7).float()
    got = binary_focal_loss(logits, target, alpha, gamma)
    assert float(got) == pytest.approx(focal_by_formula(logits, target, alpha, gamma), rel=1e-5)


def test_focal_with_gamma_zero_is_alpha_scaled_bce() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 1, 8, 8, generator=g) * 3
    target = (torch.rand(3, 1, 8, 8, generator=g) > 0.5).float()
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    alpha_t = 0.25 * target + 0.75 * (1 - target)
    torch.testing.assert_close(binary_focal_loss(logits, target, 0.25, 0.0), (alpha_t * bce).mean())
    positives = torch.ones_like(target)
    torch.testing.assert_close(binary_focal_loss(logits, positives, 0.25, 0.0), 0.25 * F.binary_cross_entropy_with_logits(logits, positives))
    torch.testing.assert_close(binary_focal_loss(logits, target, None, 0.0), bce.mean())


def test_focal_is_stable_on_saturated_logits() -> None:
    logits = torch.tensor([-200.0, -30.0, 30.0, 200.0], requires_grad=True)
    target = torch.tensor([1.0, 0.0, 1.0, 0.0])
    loss = binary_focal_loss(logits, target)
    loss.backward()
    # the two wrong, confident predictions cost ~alpha_t * |z|; the right ones nothing
    assert float(loss) == pytest.approx((0.25 * 200 + 0.75 * 200) / 4, rel=1e-4)
    assert torch.isfinite(logits.grad).all()


def test_focal_down_weights_easy_pixels() -> None:
    target = torch.tensor([1.0, 1.0])
    logits = torch.tensor([3.0, -1.0])  # one easy, one hard positive
    easy, hard = (binary_focal_loss(logits[i : i + 1], target[i : i + 1], None, 2.0) for i in range(2))
    bce_easy, bce_hard = (F.binary_cross_entropy_with_logits(logits[i : i + 1], target[i : i + 1]) for i in range(2))
    assert float(easy / hard) < 0.05 * float(bce_easy / bce_hard)


def test_dice_matches_the_formula() -> None:
    logits = torch.tensor([[[[0.0, 2.0], [-1.0, 3.0]]], [[[-2.0, -2.0], [1.0, 0.5]]]])
    target = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]]], [[[0.0, 0.0], [0.0, 0.0]]]])
    p = torch.sigmoid(logits)
    per_image = []
    for i in range(2):
        inter, total = float((p[i] * target[i]).sum()), float(p[i].sum() + target[i].sum())
        per_image.append(1 - (2 * inter + 1) / (total + 1))
    assert float(soft_dice_loss(logits, target)) == pytest.approx(sum(per_image) / 2, rel=1e-6)
    sure = torch.where(target > 0, 30.0, -30.0)
    assert float(soft_dice_loss(sure, target)) == pytest.approx(0.0, abs=1e-6)
    # all wrong (3 true pixels missed, 1 false alarm): 1 - s / (|p| + |t| + s)
    assert float(soft_dice_loss(-sure[:1], target[:1])) == pytest.approx(1 - 1 / (1 + 3 + 1), abs=1e-6)


def test_segmentation_loss_is_the_weighted_sum() -> None:
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 1, 6, 6, generator=g)
    target = (torch.rand(2, 1, 6, 6, generator=g) > 0.8).float()
    weights = {"bce": 0.5, "focal": 2.0, "dice": 1.5}
    expected = (
        0.5 * F.binary_cross_entropy_with_logits(logits, target)
        + 2.0 * binary_focal_loss(logits, target, 0.5, 1.0)
        + 1.5 * soft_dice_loss(logits, target)
    )
    torch.testing.assert_close(segmentation_loss(logits, target, weights, alpha=0.5, gamma=1.0), expected)
    assert set(segmentation_loss_terms(logits, target, {"bce": 1.0, "dice": 0.0})) == {"bce"}
    with pytest.raises(ValueError, match="focall"):
        segmentation_loss(logits, target, {"focall": 1.0})
    with pytest.raises(ValueError, match="non-zero"):
        segmentation_loss(logits, target, {"bce": 0.0})
