"""Losses shared by Restoria's tasks. Library losses are used where they exist (torch, smp)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, l1: float = 1.0, mse: float = 1.0) -> torch.Tensor:
    """Weighted L1 + MSE, the seed solution's pixel loss."""
    loss = pred.new_zeros(())
    if l1:
        loss = loss + l1 * F.l1_loss(pred, target)
    if mse:
        loss = loss + mse * F.mse_loss(pred, target)
    return loss


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L1 over the lost region only (mask in [0, 1]), so small holes are not drowned by the rest."""
    weight = mask.expand_as(pred)
    return (weight * (pred - target).abs()).sum() / weight.sum().clamp_min(1.0)


def binary_focal_loss(
    logits: torch.Tensor, target: torch.Tensor, alpha: float | None = 0.25, gamma: float = 2.0
) -> torch.Tensor:
    """Focal loss FL = -alpha_t (1 - p_t)^gamma log(p_t) (Lin et al. 2017), mean over elements.

    Down-weights the many easy pixels so a small lost region is not drowned by the background.
    Computed on logits: log(p_t) comes from the stable BCE-with-logits, so large logits never give
    log(0). `alpha` weights the positives (alpha_t = alpha for target 1, 1 - alpha for 0; None = no
    weighting); with gamma = 0 the loss is BCE scaled by alpha_t.
    """
    target = target.to(logits.dtype)
    nll = F.binary_cross_entropy_with_logits(logits, target, reduction="none")  # -log(p_t)
    loss = nll
    if gamma:
        p = torch.sigmoid(logits)
        one_minus_pt = p * (1 - target) + (1 - p) * target
        loss = loss * one_minus_pt.clamp_min(1e-12).pow(gamma)
    if alpha is not None:
        loss = loss * (alpha * target + (1 - alpha) * (1 - target))
    return loss.mean()


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - (2 sum(p t) + s) / (sum(p) + sum(t) + s) per image, averaged over the batch.

    Measures overlap rather than per-pixel error, so it is blind to how small the region is; `smooth`
    keeps images without any region defined (their loss pushes the prediction to empty).
    """
    p = torch.sigmoid(logits).flatten(1)
    t = target.to(p.dtype).flatten(1)
    dice = (2 * (p * t).sum(1) + smooth) / (p.sum(1) + t.sum(1) + smooth)
    return (1 - dice).mean()


SEGMENTATION_LOSSES = ("bce", "focal", "dice")


def segmentation_loss_terms(
    logits: torch.Tensor, target: torch.Tensor, weights: dict[str, float], alpha: float | None = 0.25, gamma: float = 2.0
) -> dict[str, torch.Tensor]:
    """The weighted terms (bce, focal, dice) a config asks for, by name, so each can be logged."""
    unknown = set(weights) - set(SEGMENTATION_LOSSES)
    if unknown:
        raise ValueError(f"unknown segmentation loss(es) {sorted(unknown)}; known: {', '.join(SEGMENTATION_LOSSES)}")
    terms: dict[str, torch.Tensor] = {}
    if weights.get("bce"):
        terms["bce"] = weights["bce"] * F.binary_cross_entropy_with_logits(logits, target.to(logits.dtype))
    if weights.get("focal"):
        terms["focal"] = weights["focal"] * binary_focal_loss(logits, target, alpha, gamma)
    if weights.get("dice"):
        terms["dice"] = weights["dice"] * soft_dice_loss(logits, target)
    if not terms:
        raise ValueError("segmentation loss: give at least one of bce, focal, dice a non-zero weight")
    return terms


def segmentation_loss(
    logits: torch.Tensor, target: torch.Tensor, weights: dict[str, float], alpha: float | None = 0.25, gamma: float = 2.0
) -> torch.Tensor:
    """Weighted sum of BCE, focal and dice losses, e.g. weights {"focal": 1.0, "dice": 1.0}."""
    return sum(segmentation_loss_terms(logits, target, weights, alpha, gamma).values())
