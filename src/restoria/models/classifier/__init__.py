"""The damaged/clean classifiers: a timm ResNet or any smp encoder with the source project's head."""

from restoria.models.classifier.model import (
    EncoderClassifier,
    ResNetClassifier,
    frozen_module_names,
    input_side,
    keras_resnet50_layers,
    parameterised_modules,
)

__all__ = ["EncoderClassifier", "ResNetClassifier", "frozen_module_names", "input_side", "keras_resnet50_layers", "parameterised_modules"]
