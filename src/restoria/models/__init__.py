"""Model builders. `create_model(name, **kwargs)` builds any of Restoria's networks by name.

Each architecture's module is imported when a model of it is built, not with this package: inference
on onnxruntime reads small helpers from here (hue rendering, tile multiples) and would otherwise pay
for importing timm, segmentation_models_pytorch and torchvision (1.5 s a command) without using them.
"""

from __future__ import annotations

import importlib

from torch import nn

# name -> (module, class or builder)
ARCHITECTURES: dict[str, tuple[str, str]] = {
    "two_stage": ("restoria.models.two_stage.model", "TwoStageRestorer"),
    "unet": ("restoria.models.segmenter.model", "build_segmenter"),
    "resnet_classifier": ("restoria.models.classifier.model", "ResNetClassifier"),
    "encoder_classifier": ("restoria.models.classifier.model", "EncoderClassifier"),
    "patchgan": ("restoria.models.patchgan.model", "PatchGAN"),
    "cyclegan": ("restoria.models.cyclegan.model", "CycleGAN"),
    "dcgan_generator": ("restoria.models.dcgan.model", "DCGANGenerator"),
    "dcgan_discriminator": ("restoria.models.dcgan.model", "DCGANDiscriminator"),
    "autoencoder": ("restoria.models.autoencoder.model", "Autoencoder"),
    "vae": ("restoria.models.autoencoder.model", "VAE"),
    "srresnet": ("restoria.models.srresnet.model", "SRResNet"),
    "srgan_discriminator": ("restoria.models.srresnet.model", "SRGANDiscriminator"),
    "enhancer": ("restoria.models.enhancer.model", "Enhancer"),
}


def create_model(name: str, **kwargs: object) -> nn.Module:
    """Build the architecture `name` with its keyword arguments (from a config's `model:` block)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    module, attr = ARCHITECTURES[name]
    return getattr(importlib.import_module(module), attr)(**kwargs)
