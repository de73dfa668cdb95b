"""Early stopping, the best weights by the competition score, and `--resume` carrying both."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
import yaml
from conftest import TINY_MODEL, invoke

from restoria.weights import read_metadata


def config(tmp_path: Path, lr: float, patience: int) -> Path:
    cfg = {
        "model": TINY_MODEL,
        "optimizer": {"lr": lr},
        "val_chroma_gains": [2.0],
        "data": {"crop": 64, "batch_size": 2, "val_batch_size": 2, "num_workers": 0, "damage": {"max_bbox": 100}},
        "trainer": {"max_steps": 12, "val_check_interval": 1, "checkpoint_every": 1, "log_every_n_steps": 1,
                    "early_stopping_patience": patience},
    }
    p = tmp_path / f"lr{lr}.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def val_scores(run: Path) -> dict[int, float]:
    """Global step (the number of optimiser steps taken, as the weights' metadata counts) -> val score."""
    with open(run / "logs" / "metrics.csv") as fh:
        return {int(r["step"]) + 1: float(r["val/score"]) for r in csv.DictReader(fh) if r.get("val/score")}


def test_best_weights_are_the_best_validated_step(trained_run: Path) -> None:
    scores = val_scores(trained_run)
    meta = read_metadata(trained_run / "model.safetensors")
    assert meta["val"] == pytest.approx(max(scores.values()), abs=1e-6)
    assert scores[meta["step"]] == pytest.approx(meta["val"], abs=1e-6)


def test_early_stopping_and_resume_keep_their_state(tmp_path: Path, dataset: Path, runner) -> None:
    """lr 0: only batch-norm statistics move, and the score falls after the first validation. With
    patience 2, a run cut after 2 validations (1 without improvement) and resumed must stop after ONE
    more validation, well before its 12 steps (a fresh EarlyStopping would need two), and keep step 1's
    weights (a fresh best would write the resumed run's first)."""
    cfg, out = config(tmp_path, 0.0, 2), tmp_path / "run"
    assert invoke(runner, "train", "--config", cfg, "--data", dataset, "--out", out, "--max-steps", 2).exit_code == 0
    ckpt = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    stopper = next(v for k, v in ckpt["callbacks"].items() if k.startswith("EarlyStopping"))
    assert stopper["wait_count"] == 1
    res = invoke(runner, "train", "--config", cfg, "--data", dataset, "--out", out, "--resume")
    assert res.exit_code == 0, res.output
    scores = val_scores(out)
    assert sorted(scores)[:2] == [1, 2] and len(scores) == 3 and max(scores) < 12
    assert max(scores.values()) == scores[1]
    assert read_metadata(out / "model.safetensors")["step"] == 1
    final = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["global_step"]
    assert read_metadata(out / "last.safetensors")["step"] == final > 1  # the last step's weights, beside the best
