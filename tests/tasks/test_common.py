"""The one optimiser/schedule helper every task uses: the optimiser a config names, over trainable
parameters only, and the two schedules checked against their formulas."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from restoria.tasks.common import build_optimizer, build_schedule, configure_optimizer, cosine_with_warmup, linear_decay


def test_cosine_warms_up_linearly_then_follows_the_cosine_to_one_percent() -> None:
    factor = cosine_with_warmup(lambda: 200)  # warm-up: 200 // 20 = 10 steps
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0)
    halfway = 10 + 95
    assert factor(halfway) == pytest.approx(0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert factor(200) == pytest.approx(0.01) and factor(10_000) == pytest.approx(0.01)


def test_linear_decay_is_flat_then_falls_to_zero() -> None:
    factor = linear_decay(lambda: 100, 0.5)
    assert [factor(s) for s in (0, 49)] == [1.0, 1.0]
    assert factor(75) == pytest.approx(0.5) and factor(100) == 0.0


def test_a_resumed_longer_run_stretches_the_schedule() -> None:
    total = {"steps": 100}
    factor = linear_decay(lambda: total["steps"], 0.5)
    before = factor(75)
    total["steps"] = 200
    assert before == pytest.approx(0.5) and factor(75) == 1.0


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.frozen, self.free = nn.Linear(2, 2), nn.Linear(2, 2)
        self.frozen.requires_grad_(False)
        self.trainer = SimpleNamespace(estimated_stepping_batches=40)


def test_configure_optimizer_names_the_class_and_leaves_frozen_layers_out() -> None:
    module = Tiny()
    out = configure_optimizer(module, {"name": "adamw", "lr": 0.01, "weight_decay": 0.1, "betas": (0.5, 0.9), "schedule": "cosine"})
    opt = out["optimizer"]
    assert type(opt) is torch.optim.AdamW
    assert {id(p) for p in opt.param_groups[0]["params"]} == {id(p) for p in module.free.parameters()}
    assert opt.param_groups[0]["betas"] == (0.5, 0.9) and opt.param_groups[0]["weight_decay"] == 0.1
    sched = out["lr_scheduler"]["scheduler"]
    assert out["lr_scheduler"]["interval"] == "step"
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 * cosine_with_warmup(lambda: 40)(0))
    for _ in range(40):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01 * 0.01)


def test_no_schedule_gives_the_bare_optimiser_and_a_default_class() -> None:
    out = configure_optimizer(Tiny(), {"lr": 0.1}, default="sgd")
    assert type(out) is torch.optim.SGD


@pytest.mark.parametrize(("cfg", "word"), [({"name": "rmsprop", "lr": 1.0}, "optimizer.name"), ({"lr": 1.0, "schedule": "step"}, "optimizer.schedule")])
def test_unknown_settings_name_the_key(cfg: dict, word: str) -> None:
    module = Tiny()
    with pytest.raises(ValueError, match=word):
        build_schedule(build_optimizer(module.free.parameters(), cfg), module, cfg)
