"""DCGAN generator and discriminator/critic: shapes, ranges, the critic without batch norm, conditioning."""

from __future__ import annotations

import pytest
import torch

from restoria.models import create_model
from restoria.models.dcgan import DCGANDiscriminator, DCGANGenerator


@pytest.mark.parametrize(("size", "channels"), [(8, 1), (16, 1), (32, 3)])
def test_generator_and_discriminator_shapes_and_ranges(size: int, channels: int) -> None:
    g = DCGANGenerator(latent_dim=8, channels=channels, image_size=size, base_channels=8)
    d = DCGANDiscriminator(channels=channels, image_size=size, base_channels=8)
    z = torch.randn(5, 8) * 10  # far out in the tails, so the output squashing is exercised
    x = g(z)
    assert x.shape == (5, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    images = g.eval().generate(z)
    assert images.min() >= 0 and images.max() <= 1
    assert d(x).shape == (5,)


def test_sizes_must_be_powers_of_two_times_four() -> None:
    with pytest.raises(ValueError, match="image_size"):
        DCGANGenerator(image_size=24)
    with pytest.raises(ValueError, match="image_size"):
        DCGANDiscriminator(image_size=4)


def test_wgan_critic_has_no_batch_norm_so_scores_are_per_sample() -> None:
    critic = create_model("dcgan_discriminator", image_size=16, base_channels=8, norm="layer").train()
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in critic.modules())
    x = torch.randn(6, 1, 16, 16)
    alone = critic(x[:1])
    torch.testing.assert_close(critic(x)[:1], alone)  # the rest of the batch does not move a sample's score


def test_labels_condition_both_networks() -> None:
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=8, image_size=16, base_channels=8, num_classes=10).eval()
    d = DCGANDiscriminator(image_size=16, base_channels=8, num_classes=10).eval()
    z = torch.randn(1, 8).repeat(10, 1)
    labels = torch.arange(10)
    images = g(z, labels)
    # one noise vector, ten labels: ten different images
    diffs = (images[:, None] - images[None]).abs().flatten(2).amax(2)
    assert diffs[~torch.eye(10, dtype=torch.bool)].min() > 1e-3
    x = images[:1].repeat(10, 1, 1, 1)
    scores = d(x, labels)  # one image, judged as each class
    assert scores.unique().numel() == 10
    with pytest.raises(ValueError, match="labels"):
        g(z)


def test_minibatch_std_lets_the_discriminator_see_a_collapsed_batch() -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(image_size=8, base_channels=4, norm="none", minibatch_std=True).eval()
    varied = torch.rand(6, 1, 8, 8) * 2 - 1
    collapsed = varied[:1].repeat(6, 1, 1, 1)
    # the same image scores differently alone in a collapsed batch than among varied ones
    assert not torch.allclose(d(collapsed)[0], d(torch.cat([collapsed[:1], varied[1:]]))[0])
    plain = DCGANDiscriminator(image_size=8, base_channels=4, norm="none").eval()
    torch.testing.assert_close(plain(collapsed)[0], plain(torch.cat([collapsed[:1], varied[1:]]))[0])


def test_spectral_norm_bounds_every_layer() -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(image_size=16, base_channels=8, norm="none", spectral_norm=True).train()
    for _ in range(30):  # each training forward refines the power iteration
        d(torch.randn(4, 1, 16, 16))
    layers = [m for m in [*d.features, d.head] if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(layers) == 3
    for m in layers:
        assert torch.linalg.matrix_norm(m.weight.flatten(1), 2).item() == pytest.approx(1.0, rel=1e-3)
