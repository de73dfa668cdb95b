"""Losses shared by Restoria's tasks. Library losses are used where they exist (torch, smp)."""

from __future__ import annotations

import math
from collections.abc import Callable

import kornia
import torch
import torch.nn.functional as F
from kornia.color import rgb_to_hsv

from restoria.models.two_stage.hue import hue_index


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


def masked_ssim_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, window: int = 7) -> torch.Tensor:
    """1 - SSIM (kornia's local map, `window` wide, as skimage's default) averaged over the lost region:
    the score's masked SSIM rewards a fill whose local structure follows the truth, which L1 alone
    trades for a blurred mean."""
    ssim = kornia.metrics.ssim(pred, target, window, max_val=1.0)
    weight = mask.expand_as(ssim)
    return (weight * (1 - ssim)).sum() / weight.sum().clamp_min(1.0)


HUE_BINS = 180  # the competition's hue histogram: OpenCV's 8-bit hue, 0..179 (2 degrees a bin)


def hue_histogram(rgb: torch.Tensor, sigma: float = 1.5, quantize: bool = True, stride: int = 2) -> torch.Tensor:
    """Differentiable 180-bin hue histograms (B, 180) of RGB photos (B, 3, H, W) in [0, 1], each
    summing to 1: every pixel spreads over the bins by a circular Gaussian of `sigma` bins around its
    hue (OpenCV's: degrees / 2, gray pixels at 0), normalised to one count per pixel. `quantize` rounds the colours to 8 bits first with a
    straight-through gradient, because the score reads the saved PNG: a faint tint that rounds to gray
    counts at hue 0, not at the hue it was meant to have. `stride` subsamples pixels to save memory."""
    rgb = rgb[..., ::stride, ::stride].clamp(0, 1).contiguous()
    if quantize:
        rgb = rgb + ((rgb * 255).round() / 255 - rgb).detach()
    hue = rgb_to_hsv(rgb)[:, 0].flatten(1) * (HUE_BINS / (2 * math.pi))
    reach = max(1, math.ceil(3 * sigma))  # the kernel is cut at 3 sigma: each pixel touches 2 * reach + 1 bins
    bins = hue.detach().round()[..., None] + torch.arange(-reach, reach + 1, device=rgb.device, dtype=hue.dtype)
    weight = torch.exp(-0.5 * ((bins - hue[..., None]) / sigma) ** 2)
    weight = weight / weight.sum(-1, keepdim=True)  # one pixel, one count, wherever its hue falls
    index = bins.long().remainder(HUE_BINS).flatten(1)
    hist = weight.new_zeros(len(rgb), HUE_BINS).scatter_add(1, index, weight.flatten(1))
    return hist / hist.sum(1, keepdim=True)


def hue_classification_loss(logits: torch.Tensor, target_rgb: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of per-pixel hue logits (B, K, h, w), at 1/s of the photo's resolution, against the
    true photo's OpenCV hue bins (`restoria.models.two_stage.hue.hue_index`). The soft target of each low-resolution
    cell is the hue histogram of its s x s pixels, with no class rebalancing: the predicted
    distributions then sum to the photo's expected hue histogram, which is what the score compares."""
    b, k, h, w = logits.shape
    idx = hue_index(target_rgb)  # (B, H, W)
    sy, sx = idx.shape[1] // h, idx.shape[2] // w
    idx = idx[:, : h * sy, : w * sx]
    cell = (torch.arange(h, device=idx.device).repeat_interleave(sy)[:, None] * w
            + torch.arange(w, device=idx.device).repeat_interleave(sx)[None, :])  # (H, W) -> cell
    flat = idx * (h * w) + cell
    target = torch.zeros(b, k * h * w, device=logits.device, dtype=logits.dtype)
    target.scatter_add_(1, flat.flatten(1), torch.full_like(flat.flatten(1), 1.0 / (sy * sx), dtype=logits.dtype))
    target = target.view(b, k, h, w)
    return -(target * F.log_softmax(logits, dim=1)).sum(1).mean()


def hue_histogram_loss(pred: torch.Tensor, target: torch.Tensor, sigma: float = 1.5, stride: int = 2) -> torch.Tensor:
    """1 - the correlation of the hue histograms of `pred` and `target` (the score's hue term, which
    compares each photo's colour distribution as a whole), mean over the batch. The target's histogram
    is taken from its exact 8-bit colours, the prediction's through `hue_histogram`'s quantisation."""
    with torch.no_grad():
        h_true = hue_histogram(target, sigma, quantize=False, stride=stride)
    return (1 - pearson_correlation(hue_histogram(pred, sigma, stride=stride), h_true)).mean()


def pearson_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation over the last axis, differentiable: what OpenCV's HISTCMP_CORREL computes
    for two histograms (the score's hue term)."""
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp_min(1e-12)


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


GAN_MODES = ("minimax", "nonsaturating")


def gan_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E[log D(x)] - E[log(1 - D(G(z)))]: BCE on logits with real -> 1 and fake -> 0 (Goodfellow et al.
    2014). On logits, so a confident D never takes log(0)."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def gan_generator_loss(fake_logits: torch.Tensor, mode: str = "nonsaturating") -> torch.Tensor:
    """The generator's side of the minimax game on D's logits for G(z).

    "minimax" minimises E[log(1 - D(G(z)))], the game as written; its gradient vanishes when D rejects
    the fakes confidently (early training). "nonsaturating" minimises -E[log D(G(z))], the same fixed
    point with strong gradients exactly there, so it is the default.
    """
    if mode == "minimax":
        # log(1 - sigmoid(z)) = -softplus(z)
        return -F.softplus(fake_logits).mean()
    if mode == "nonsaturating":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    raise ValueError(f"GAN loss mode must be one of {', '.join(GAN_MODES)}, got {mode!r}")


def wasserstein_critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """E[D(fake)] - E[D(real)]: the critic maximises the gap, an estimate of the Wasserstein-1 distance
    when D is 1-Lipschitz (Arjovsky et al. 2017)."""
    return fake_scores.mean() - real_scores.mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-E[D(G(z))]: the generator moves its samples where the critic scores real data."""
    return -fake_scores.mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: float = 10.0,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """lambda * E[(||grad_x D(x_hat)||_2 - 1)^2] on x_hat = a x + (1 - a) G(z), a ~ U(0, 1) per sample
    (Gulrajani et al. 2017): keeps the critic near 1-Lipschitz without weight clipping.

    `create_graph` keeps the penalty differentiable w.r.t. the critic's parameters. `alpha` (B,) may be
    given to make the interpolates deterministic.
    """
    if alpha is None:
        alpha = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    a = alpha.view(-1, *([1] * (real.dim() - 1)))
    x_hat = (a * real.detach() + (1 - a) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1)
    return weight * ((norms - 1) ** 2).mean()


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) in closed form, -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2), summed
    over latent dimensions and averaged over the batch."""
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp())
    return kl.flatten(1).sum(1).mean()


def vae_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    recon_factor: float = 1.0,
    kl_weight: float = 1.0,
    recon_kind: str = "bce",
) -> dict[str, torch.Tensor]:
    """recon_factor * reconstruction + kl_weight * KL, terms returned by name (recon, kl, loss).

    `logits` are the decoder's pre-sigmoid outputs, `target` images in [0, 1]. Reconstruction is "bce"
    (the Bernoulli likelihood of Kingma & Welling, on logits so it is stable and autocast-safe) or "mse"
    (of sigmoid(logits)); it is summed over pixels and averaged over the batch, so it and the KL (summed
    over latents) are on the same per-sample scale, as in the ELBO.
    """
    if recon_kind == "bce":
        rec = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    elif recon_kind == "mse":
        rec = F.mse_loss(torch.sigmoid(logits), target, reduction="none")
    else:
        raise ValueError(f"recon_kind must be bce or mse, got {recon_kind!r}")
    rec = rec.flatten(1).sum(1).mean()
    kl = kl_divergence(mu, logvar)
    return {"recon": rec, "kl": kl, "loss": recon_factor * rec + kl_weight * kl}


def cycle_consistency_loss(original: torch.Tensor, reconstructed: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """lambda * ||F(G(x)) - x||_1 (CycleGAN, Zhu et al. 2017): a translation must be undoable, which is
    what ties unpaired domains together."""
    return weight * F.l1_loss(reconstructed, original)


def identity_loss(real: torch.Tensor, mapped: torch.Tensor, weight: float = 5.0) -> torch.Tensor:
    """lambda * ||G(y) - y||_1: a generator fed an image already in its target domain should leave it
    alone, which keeps CycleGAN from shifting colours it need not touch."""
    return weight * F.l1_loss(mapped, real)
