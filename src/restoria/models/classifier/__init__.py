"""The damaged/clean classifiers: a timm ResNet or any smp encoder with the source project's head."""

from restoria.models.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"EncoderClassifier": "model", "ResNetClassifier": "model", "frozen_module_names": "model", "keras_resnet50_layers": "model", "parameterised_modules": "model", "input_side": "sizing"})
__all__ = ["EncoderClassifier", "ResNetClassifier", "frozen_module_names", "input_side", "keras_resnet50_layers", "parameterised_modules"]
