"""The refiner: it starts as the classical fill and from the inpainter's features, changes only the
hole, learns on a real photo with the rest frozen, and the pipeline and ONNX run it the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL

from restoria.data.damage import apply_damage
from restoria.fill import classical_fill, classical_fill_image
from restoria.imaging import to_gray, to_tensor
from restoria.inference.onnx_backend import export_onnx
from restoria.inference.restorer import Restorer
from restoria.losses import masked_l1
from restoria.models import create_model
from restoria.tasks.restore import RestoreTask
from restoria.weights import save_weights

REFINE_MODEL = {**TINY_MODEL, "refine": "ns"}


def damaged_batch(photos: dict[str, np.ndarray], names: tuple[str, ...] = ("astronaut", "coffee")) -> dict[str, torch.Tensor]:
    out: dict[str, list[torch.Tensor]] = {"input": [], "mask": [], "gray": []}
    for seed, name in enumerate(names):
        gray = to_gray(photos[name])[:128, :128]
        d, m = apply_damage(gray, np.random.default_rng(seed))
        out["input"].append(to_tensor(d))
        out["mask"].append(to_tensor(m))
        out["gray"].append(to_tensor(gray))
    return {k: torch.stack(v) for k, v in out.items()}


def test_a_new_refiner_is_the_classical_fill(photos: dict[str, np.ndarray]) -> None:
    net = create_model(**REFINE_MODEL).eval()
    b = damaged_batch(photos)
    out = net.inpaint(b["input"], b["mask"])
    prefill = classical_fill(b["input"], b["mask"], "ns")
    torch.testing.assert_close(out["fill"], prefill)
    hole = b["mask"] > 0.5
    torch.testing.assert_close(out["gray"][~hole], b["input"][~hole])  # only the hole changes


def test_refiner_starts_from_the_inpainter() -> None:
    torch.manual_seed(0)
    net = create_model(**REFINE_MODEL)
    net.refiner_from_inpainter()
    first = "encoder.features.0.0.weight"
    own, src = net.refiner.state_dict(), net.inpainter.state_dict()
    torch.testing.assert_close(own[first][:, :1], src[first])
    assert own[first][:, 1:].abs().sum() == 0  # the hole channel starts silent
    torch.testing.assert_close(own["decoder.blocks.2.conv1.0.weight"], src["decoder.blocks.2.conv1.0.weight"])
    assert net.refiner.segmentation_head[0].weight.abs().sum() == 0  # the residual starts at zero


def test_refiner_learns_with_the_rest_frozen(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    torch.manual_seed(0)
    init = tmp_path / "base.safetensors"
    base = create_model(**TINY_MODEL)
    save_weights(base, init, TINY_MODEL)
    task = RestoreTask(REFINE_MODEL, {"fill_l1": 1.0, "fill_ssim": 1.0}, {"lr": 3e-3, "schedule": "none"}, init=str(init), freeze=["inpainter", "colorizer"])
    frozen = {k: v.clone() for k, v in task.net.inpainter.state_dict().items()}
    b = damaged_batch(photos)
    b["rgb"] = b["gray"].expand(-1, 3, -1, -1)
    opt = torch.optim.Adam([p for p in task.parameters() if p.requires_grad], 3e-3)
    task.train()
    start = float(masked_l1(task.net.inpaint(b["input"], b["mask"])["fill"], b["gray"], b["mask"]))
    for _ in range(25):
        opt.zero_grad()
        losses, _ = task.restore_losses(b)
        assert set(losses) == {"fill", "fill_ssim"}
        sum(losses.values()).backward()
        opt.step()
    end = float(masked_l1(task.net.inpaint(b["input"], b["mask"])["fill"], b["gray"], b["mask"]))
    assert end < 0.9 * start
    for k, v in task.net.inpainter.state_dict().items():
        torch.testing.assert_close(v, frozen[k])


def test_a_refiner_needs_a_frozen_damage_head() -> None:
    with pytest.raises(ValueError, match="add `inpainter` to `freeze`"):
        RestoreTask(REFINE_MODEL)
    with pytest.raises(ValueError, match="refine must be one of"):
        create_model(**{**TINY_MODEL, "refine": "lama"})


def test_pipeline_and_onnx_refine_the_given_hole(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    torch.manual_seed(0)
    net = create_model(**REFINE_MODEL)
    torch.nn.init.normal_(net.refiner.segmentation_head[0].weight, std=0.05)  # a residual that does something
    weights = tmp_path / "refine.safetensors"
    save_weights(net, weights, REFINE_MODEL)
    gray = to_gray(photos["chelsea"])[:160, :224]
    damaged, mask = apply_damage(gray, np.random.default_rng(5))
    plain = Restorer([weights], segmenter=None, classifier=None, fill="ns")(damaged, mask)
    np.testing.assert_array_equal(plain.inpainted, classical_fill_image(damaged, mask, "ns"))
    refined = Restorer([weights], segmenter=None, classifier=None)(damaged, mask)
    hole = mask > 0
    np.testing.assert_array_equal(refined.inpainted[~hole], damaged[~hole])
    assert (refined.inpainted[hole] != plain.inpainted[hole]).mean() > 0.5
    export_onnx(weights, tmp_path / "onnx", "refine")
    assert (tmp_path / "onnx" / "refine.refine.onnx").exists()
    onnx = Restorer([tmp_path / "onnx" / "refine.fill.onnx"], segmenter=None, classifier=None, backend="onnx")(damaged, mask)
    assert np.abs(onnx.inpainted.astype(int) - refined.inpainted).max() <= 1


def test_unknown_fill_is_refused() -> None:
    with pytest.raises(ValueError, match="fill must be one of"):
        Restorer(fill="lama", segmenter=None, classifier=None)
