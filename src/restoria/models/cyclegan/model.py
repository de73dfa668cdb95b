"""The two CycleGAN generators as one network (what a run saves); the discriminators live in the task."""

from __future__ import annotations

from torch import Tensor, nn

from restoria.models.cyclegan.generator import ResnetGenerator


class CycleGAN(nn.Module):
    """`a_to_b` and `b_to_a` generators between domains of `channels_a` and `channels_b` channels.

    For gray <-> colour both domains are RGB (a gray photo is three equal channels), so the identity
    loss — a colour photo fed to the colorizer should come back unchanged — is defined.
    """

    def __init__(self, channels_a: int = 3, channels_b: int = 3, base_channels: int = 64, n_blocks: int = 9) -> None:
        super().__init__()
        self.channels_a, self.channels_b = channels_a, channels_b
        self.a_to_b = ResnetGenerator(channels_a, channels_b, base_channels, n_blocks)
        self.b_to_a = ResnetGenerator(channels_b, channels_a, base_channels, n_blocks)

    def forward(self, a: Tensor) -> Tensor:
        """A -> B on images in [0, 1] (the direction a user runs: e.g. gray -> colour)."""
        return (self.a_to_b(a * 2 - 1) + 1) / 2
