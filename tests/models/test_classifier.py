"""The classifier: Keras' "first 143 layers" mapped to timm names; freezing freezes exactly those."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from restoria.data import to_gray, to_tensor
from restoria.models.classifier import ResNetClassifier, frozen_module_names, keras_resnet50_layers, parameterised_modules
from restoria.transforms import fit

KERAS_143 = ["conv1", "bn1", "layer1", "layer2", "layer3"]


@pytest.fixture(scope="module")
def resnet50() -> ResNetClassifier:
    torch.manual_seed(0)
    return ResNetClassifier("resnet50", freeze={"keras_layers": 143})


def test_keras_143_is_the_stem_and_conv2_to_conv4(resnet50: ResNetClassifier) -> None:
    keras = keras_resnet50_layers()
    assert len(keras) == 175 and len({k for k, _ in keras}) == 175  # Keras ResNet50 without its top
    assert keras[142][0] == "conv4_block6_out" and keras[143][0] == "conv5_block1_1_conv"
    assert {t for _, t in keras if t} == set(parameterised_modules(resnet50.backbone))  # every weight has its Keras layer
    by_prefix = frozen_module_names(resnet50.backbone, KERAS_143)
    assert resnet50.frozen == by_prefix == frozen_module_names(resnet50.backbone, 86)
    assert resnet50.frozen[-1] == "layer3.5.bn3" and not any(n.startswith("layer4") for n in resnet50.frozen)


def test_freeze_specs_are_checked(resnet50: ResNetClassifier) -> None:
    for bad in (True, {"layers": 500}, ["layer9"], {"keras_layers": 143, "layers": 2}, {"blocks": 3}):
        with pytest.raises(ValueError, match="freeze"):
            frozen_module_names(resnet50.backbone, bad)
    assert frozen_module_names(resnet50.backbone, None) == frozen_module_names(resnet50.backbone, 0) == []


def test_frozen_layers_do_not_move(photos: dict[str, np.ndarray]) -> None:
    torch.manual_seed(0)
    model = ResNetClassifier("resnet50", freeze={"keras_layers": 143})
    frozen, modules = set(model.frozen), dict(model.backbone.named_modules())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = [fit(to_tensor(to_gray(p)), None, 64, "resize", None)[0] for p in photos.values()][:4]
    x, y = torch.stack(images), torch.tensor([0.0, 1.0, 0.0, 1.0])
    model.train()
    assert all(not modules[n].training for n in frozen if isinstance(modules[n], torch.nn.BatchNorm2d))
    assert modules["layer4.0.bn1"].training
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
        opt.step()
    after = model.state_dict()
    for name, p in model.named_parameters():
        module = name.removeprefix("backbone.").rsplit(".", 1)[0]
        if name.startswith("backbone.") and module in frozen:
            assert not p.requires_grad and p.grad is None and torch.equal(p, before[name]), name
        else:
            assert p.requires_grad and not torch.equal(p, before[name]), name
    for name, value in before.items():  # batch-norm statistics of frozen layers are frozen too
        module = name.removeprefix("backbone.").rsplit(".", 1)[0]
        if name.startswith("backbone.") and module in frozen and "running" in name:
            assert torch.equal(after[name], value), name
    assert not torch.equal(after["backbone.layer4.0.bn1.running_mean"], before["backbone.layer4.0.bn1.running_mean"])


def test_local_backbone_weights(tmp_path: Path) -> None:
    torch.manual_seed(0)
    donor = ResNetClassifier("resnet18", in_channels=3).backbone
    path = tmp_path / "resnet18.pth"
    torch.save(donor.state_dict(), path)
    model = ResNetClassifier("resnet18", encoder_weights=str(path), in_channels=1)
    got, want = model.backbone.state_dict(), donor.state_dict()
    torch.testing.assert_close(got["layer4.1.conv2.weight"], want["layer4.1.conv2.weight"])
    torch.testing.assert_close(got["conv1.weight"], want["conv1.weight"].sum(1, keepdim=True))
    with pytest.raises(ValueError, match="encoder_weights"):
        ResNetClassifier("resnet18", encoder_weights="imagenet21k")
