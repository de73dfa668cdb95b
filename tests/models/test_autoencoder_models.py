"""Autoencoder and VAE: shapes, the reparameterisation trick, a deterministic code in eval mode."""

from __future__ import annotations

import pytest
import torch

from restoria.models.autoencoder import VAE, Autoencoder


def test_autoencoder_shapes() -> None:
    ae = Autoencoder(channels=3, image_size=32, latent_dim=6, base_channels=8)
    out = ae(torch.rand(4, 3, 32, 32))
    assert out["code"].shape == (4, 6)
    assert out["recon"].shape == (4, 3, 32, 32)
    assert 0 <= out["recon"].min() and out["recon"].max() <= 1
    assert ae.generate(torch.randn(2, 6)).shape == (2, 3, 32, 32)


def test_reparameterisation_samples_the_posterior_and_passes_gradients() -> None:
    torch.manual_seed(0)
    mu = torch.tensor([[1.0, -2.0]]).repeat(20000, 1).requires_grad_(True)
    logvar = torch.tensor([[0.0, 2 * torch.log(torch.tensor(3.0))]]).repeat(20000, 1).requires_grad_(True)
    z = VAE.reparameterize(mu, logvar)
    assert z.mean(0).tolist() == pytest.approx([1.0, -2.0], abs=0.06)
    assert z.std(0).tolist() == pytest.approx([1.0, 3.0], rel=0.03)
    z.sum().backward()
    assert torch.all(mu.grad == 1)  # dz/dmu = 1
    assert logvar.grad.abs().sum() > 0  # dz/dlogvar = eps * sigma / 2


def test_vae_samples_in_training_and_uses_the_mean_in_eval() -> None:
    torch.manual_seed(0)
    vae = VAE(image_size=16, latent_dim=4, base_channels=8)
    x = torch.rand(3, 1, 16, 16)
    out = vae.train()(x)
    assert not torch.equal(out["z"], out["mu"])
    vae.eval()
    a, b = vae(x), vae(x)
    torch.testing.assert_close(a["z"], a["mu"])
    torch.testing.assert_close(a["recon"], b["recon"])
    torch.testing.assert_close(vae.encode(x), a["mu"])
