"""Model builders. `create_model(name, **kwargs)` builds any of Restoria's networks by name."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from restoria.models.autoencoder import VAE, Autoencoder
from restoria.models.classifier import EncoderClassifier, ResNetClassifier
from restoria.models.cyclegan import CycleGAN
from restoria.models.dcgan import DCGANDiscriminator, DCGANGenerator
from restoria.models.enhancer import Enhancer
from restoria.models.patchgan import PatchGAN
from restoria.models.segmenter import build_segmenter
from restoria.models.srresnet import SRGANDiscriminator, SRResNet
from restoria.models.two_stage import TwoStageRestorer

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "two_stage": TwoStageRestorer,
    "unet": build_segmenter,
    "resnet_classifier": ResNetClassifier,
    "encoder_classifier": EncoderClassifier,
    "patchgan": PatchGAN,
    "cyclegan": CycleGAN,
    "dcgan_generator": DCGANGenerator,
    "dcgan_discriminator": DCGANDiscriminator,
    "autoencoder": Autoencoder,
    "vae": VAE,
    "srresnet": SRResNet,
    "srgan_discriminator": SRGANDiscriminator,
    "enhancer": Enhancer,
}


def create_model(name: str, **kwargs: object) -> nn.Module:
    """Build the architecture `name` with its keyword arguments (from a config's `model:` block)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    return ARCHITECTURES[name](**kwargs)
