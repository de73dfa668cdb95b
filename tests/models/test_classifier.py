"""The classifier: Keras' "first 143 layers" mapped to timm names; freezing freezes exactly those."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from restoria.data.transforms import fit
from restoria.imaging import to_gray, to_tensor
from restoria.models.classifier import ResNetClassifier, frozen_module_names, keras_resnet50_layers, parameterised_modules

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


def test_encoder_classifier_transfers_a_trained_unet(tmp_path: Path) -> None:
    """The segmenter's encoder is the classifier's starting point: every encoder tensor of a U-Net file
    is taken (first convolution included), and the named blocks are frozen."""
    from restoria.models import create_model
    from restoria.weights import save_weights

    torch.manual_seed(0)
    cfg = {"name": "unet", "encoder": "mobilenet_v2", "in_channels": 1, "decoder_channels": [16, 16, 8, 8, 8]}
    unet = create_model(**cfg)
    save_weights(unet, tmp_path / "seg.safetensors", cfg)
    model = create_model("encoder_classifier", encoder_weights=str(tmp_path / "seg.safetensors"),
                         freeze=["features.0", "features.1"], pool="avgmax")
    got, want = model.backbone.state_dict(), unet.encoder.state_dict()
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in got)
    assert model.frozen and all(n.startswith(("features.0.", "features.1.")) for n in model.frozen)
    assert model.norm.num_features == 2 * 1280 and model(torch.rand(2, 1, 64, 64)).shape == (2,)
    with pytest.raises(ValueError, match="pool"):
        create_model("encoder_classifier", pool="median")


def test_max_pooling_keeps_a_local_cue_that_averaging_dilutes() -> None:
    """One hot patch in a big map: its max-pooled feature stays, its average shrinks with the map."""
    from restoria.models import create_model

    model = create_model("encoder_classifier", pool="avgmax")
    small, large = torch.zeros(1, 1280, 4, 4), torch.zeros(1, 1280, 16, 16)
    small[..., 0, 0] = large[..., 0, 0] = 1.0
    model.features = lambda x: x  # type: ignore[method-assign]
    a, b = model.pooled(small), model.pooled(large)
    assert torch.equal(a[:, 1280:], b[:, 1280:]) and torch.allclose(a[:, :1280], 16 * b[:, :1280])
