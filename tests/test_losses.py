"""Losses against their formulas written out: focal and dice (and the config-weighted sum of them), the GAN,
Wasserstein and gradient-penalty losses, the VAE KL, cycle-consistency and identity."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from restoria.losses import (
    binary_focal_loss,
    cycle_consistency_loss,
    gan_discriminator_loss,
    gan_generator_loss,
    gradient_penalty,
    hue_histogram,
    hue_histogram_loss,
    identity_loss,
    kl_divergence,
    segmentation_loss,
    segmentation_loss_terms,
    soft_dice_loss,
    vae_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from restoria.metrics.score import hist_similarity
from restoria.models.two_stage.compose import compose_rgb


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


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_discriminator_loss_is_the_minimax_value_negated() -> None:
    real, fake = torch.tensor([2.0, -0.5, 1.0]), torch.tensor([-3.0, 0.2])
    want = -sum(math.log(sigmoid(z)) for z in real.tolist()) / 3 - sum(math.log(1 - sigmoid(z)) for z in fake.tolist()) / 2
    assert float(gan_discriminator_loss(real, fake)) == pytest.approx(want, rel=1e-6)


def test_generator_losses_match_their_formulas() -> None:
    fake = torch.tensor([-2.0, 0.0, 1.5])
    minimax = sum(math.log(1 - sigmoid(z)) for z in fake.tolist()) / 3
    nonsat = -sum(math.log(sigmoid(z)) for z in fake.tolist()) / 3
    assert float(gan_generator_loss(fake, "minimax")) == pytest.approx(minimax, rel=1e-6)
    assert float(gan_generator_loss(fake, "nonsaturating")) == pytest.approx(nonsat, rel=1e-6)
    with pytest.raises(ValueError, match="minimax"):
        gan_generator_loss(fake, "hinge")


def test_nonsaturating_keeps_the_gradient_the_minimax_loses_when_d_rejects_fakes() -> None:
    """At D(G(z)) ~ 0 (logit -8): d/dz log(1 - s(z)) = -s(z) ~ 3e-4, d/dz -log s(z) = s(z) - 1 ~ -1."""
    grads = {}
    for mode in ("minimax", "nonsaturating"):
        z = torch.tensor([-8.0], requires_grad=True)
        gan_generator_loss(z, mode).backward()
        grads[mode] = float(z.grad)
    assert grads["minimax"] == pytest.approx(-sigmoid(-8.0), rel=1e-5)
    assert grads["nonsaturating"] == pytest.approx(sigmoid(-8.0) - 1, rel=1e-5)
    assert abs(grads["nonsaturating"]) > 1000 * abs(grads["minimax"])
    # both push the fake's logit up (a descent step raises D(G(z)))
    assert grads["minimax"] < 0 and grads["nonsaturating"] < 0


def test_wasserstein_losses() -> None:
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([-1.0, 0.0, 4.0])
    assert float(wasserstein_critic_loss(real, fake)) == pytest.approx(1.0 - 2.0)
    assert float(wasserstein_generator_loss(fake)) == pytest.approx(-1.0)


def linear_critic(weight: torch.Tensor) -> torch.nn.Module:
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(weight.numel(), 1))
    with torch.no_grad():
        critic[1].weight.copy_(weight.view(1, -1))
    return critic


def test_gradient_penalty_is_zero_for_a_unit_norm_linear_critic_and_formula_otherwise() -> None:
    g = torch.Generator().manual_seed(0)
    real, fake = torch.rand(4, 1, 3, 3, generator=g), torch.rand(4, 1, 3, 3, generator=g)
    w = torch.randn(9, generator=g)
    unit = linear_critic(w / w.norm())
    assert float(gradient_penalty(unit, real, fake, weight=10.0)) == pytest.approx(0.0, abs=1e-10)
    scaled = linear_critic(3 * w / w.norm())  # gradient norm 3 everywhere: 10 * (3 - 1)^2
    assert float(gradient_penalty(scaled, real, fake, weight=10.0)) == pytest.approx(40.0, rel=1e-5)
    assert float(gradient_penalty(scaled, real, fake, weight=2.5)) == pytest.approx(10.0, rel=1e-5)


def test_gradient_penalty_uses_the_interpolates_and_reaches_the_critic_weights() -> None:
    """A critic D(x) = sum(x^2)/2 has gradient x, so the penalty depends on where x_hat lies."""

    class Square(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor(1.0))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.scale * 0.5 * x.flatten(1).pow(2).sum(1)

    real = torch.tensor([[3.0, 0.0]])
    fake = torch.tensor([[0.0, 0.0]])
    critic = Square()
    # x_hat = 0.5 * real: gradient (1.5, 0), norm 1.5 -> (1.5 - 1)^2
    gp = gradient_penalty(critic, real, fake, weight=1.0, alpha=torch.tensor([0.5]))
    assert float(gp) == pytest.approx(0.25)
    gp.backward()  # d/dscale (scale*1.5 - 1)^2 = 2 * 0.5 * 1.5
    assert float(critic.scale.grad) == pytest.approx(1.5)


def test_kl_is_zero_at_the_prior_and_matches_the_closed_form() -> None:
    assert float(kl_divergence(torch.zeros(5, 4), torch.zeros(5, 4))) == 0.0
    mu, logvar = torch.tensor([[1.0, -2.0]]), torch.tensor([[math.log(4.0), 0.0]])
    # per dim: (sigma^2 + mu^2 - 1 - log sigma^2) / 2
    want = (4 + 1 - 1 - math.log(4)) / 2 + (1 + 4 - 1 - 0) / 2
    assert float(kl_divergence(mu, logvar)) == pytest.approx(want, rel=1e-6)
    # against torch.distributions
    g = torch.Generator().manual_seed(3)
    mu, logvar = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.testing.assert_close(kl_divergence(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1).mean())


def test_vae_loss_weights_reconstruction_and_kl() -> None:
    g = torch.Generator().manual_seed(4)
    target = torch.rand(3, 1, 4, 4, generator=g)
    logits = torch.randn(3, 1, 4, 4, generator=g)
    recon = torch.sigmoid(logits)
    mu, logvar = torch.randn(3, 2, generator=g), torch.randn(3, 2, generator=g)
    terms = vae_loss(logits, target, mu, logvar, recon_factor=2.0, kl_weight=0.5, recon_kind="mse")
    rec = ((recon - target) ** 2).flatten(1).sum(1).mean()
    torch.testing.assert_close(terms["recon"], rec)
    torch.testing.assert_close(terms["loss"], 2.0 * rec + 0.5 * kl_divergence(mu, logvar))
    bce = vae_loss(logits, target, mu, logvar)["recon"]
    want = -(target * recon.log() + (1 - target) * (1 - recon).log()).flatten(1).sum(1).mean()
    torch.testing.assert_close(bce, want)


def test_cycle_and_identity_losses_are_weighted_l1() -> None:
    x = torch.tensor([0.0, 1.0, 2.0, 3.0])
    y = torch.tensor([1.0, 1.0, 0.0, 3.0])  # |diff| mean = 3/4
    assert float(cycle_consistency_loss(x, y, weight=10.0)) == pytest.approx(7.5)
    assert float(identity_loss(x, y, weight=2.0)) == pytest.approx(1.5)
    assert float(cycle_consistency_loss(x, x)) == 0.0


def photo_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255


def test_hue_histogram_is_the_scores_histogram(photos: dict[str, np.ndarray]) -> None:
    """With a narrow kernel and every pixel, the soft histogram is OpenCV's 180-bin hue histogram of
    the RGB photo (the score's), and 1 - the loss is the score's hue term."""
    chelsea, coffee = photos["chelsea"][:256, :256], photos["coffee"][:256, :256]
    for rgb in (chelsea, coffee):
        soft = hue_histogram(photo_tensor(rgb), sigma=0.2, quantize=False, stride=1)[0].numpy()
        hard = cv2.calcHist([cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)], [0], None, [180], [0, 180]).flatten()
        assert np.corrcoef(soft, hard)[0, 1] > 0.98
        assert soft.sum() == pytest.approx(1.0, abs=1e-5)
    h_chelsea, h_coffee = (hue_histogram(photo_tensor(r), sigma=0.2, quantize=False, stride=1)[0].numpy() for r in (chelsea, coffee))
    assert np.corrcoef(h_chelsea, h_coffee)[0, 1] == pytest.approx(hist_similarity(chelsea, coffee), abs=0.02)
    # the loss's own wider kernel (1.5 bins) forgives a hue a bin off, so it reads a little higher
    term = 1 - hue_histogram_loss(photo_tensor(coffee), photo_tensor(chelsea)).item()
    assert hist_similarity(chelsea, coffee) < term < hist_similarity(chelsea, coffee) + 0.2


def test_hue_histogram_counts_a_faint_tint_that_rounds_to_gray_at_hue_zero() -> None:
    """The score reads the 8-bit PNG: a tint below half a level is gray there, hue 0 (the quantised
    histogram says so), although its unrounded hue is orange."""
    faint = torch.full((1, 3, 8, 8), 128 / 255)
    faint[:, 0] += 0.3 / 255
    quantised = hue_histogram(faint, sigma=0.5, stride=1)[0]
    assert quantised.argmax().item() == 0
    assert hue_histogram(faint, sigma=0.5, quantize=False, stride=1)[0].argmax().item() == 0  # red is hue 0 too
    faint[:, 1] += 0.15 / 255  # orange before rounding (hue 30 deg, bin 15), gray after
    assert hue_histogram(faint, sigma=0.5, quantize=False, stride=1)[0].argmax().item() == 15
    assert hue_histogram(faint, sigma=0.5, stride=1)[0].argmax().item() == 0


def test_hue_histogram_loss_colours_a_gray_photo_towards_its_hues(photos: dict[str, np.ndarray]) -> None:
    """Gradient descent on the loss alone, through the same Cb/Cr -> RGB path as the colorizer, raises
    the score's hue term of a gray copy of a real photo (the loss falls with it)."""
    rgb = photos["coffee"][::4, ::4].copy()
    true = photo_tensor(rgb)
    gray = photo_tensor(np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, -1))[:, :1]
    torch.manual_seed(0)
    chroma = (0.02 * torch.randn(1, 2, *gray.shape[-2:])).requires_grad_(True)  # a faint random start, as a fresh net gives
    opt = torch.optim.Adam([chroma], lr=0.003)
    first = None
    for _ in range(60):
        pred = compose_rgb(gray, chroma, "ycbcr")
        loss = hue_histogram_loss(pred, true, stride=1)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = compose_rgb(gray, chroma.detach(), "ycbcr")
    out = (final[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert loss.item() < first - 0.2
    assert hist_similarity(rgb, out) > hist_similarity(rgb, cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)) + 0.2
