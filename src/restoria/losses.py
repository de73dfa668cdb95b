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
