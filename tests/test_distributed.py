"""DDP: two CPU processes (gloo) train, end with the same weights, and log the exact validation score."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import torch
import yaml
from conftest import TINY_MODEL

from restoria.data.restore import RestoreDataModule
from restoria.distributed import UnpaddedDistributedSampler, state_fingerprint
from restoria.tasks.restore import RestoreTask
from restoria.weights import load_model


def test_fingerprint_sees_one_changed_value() -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    before, params_before = state_fingerprint(net), state_fingerprint(net, buffers=False)
    net[1].running_mean[0] += 1e-6
    assert state_fingerprint(net) != before and state_fingerprint(net, buffers=False) == params_before
    with torch.no_grad():
        net[0].weight.view(-1)[0] += 1e-6
    assert state_fingerprint(net, buffers=False) != params_before


def test_unpadded_sampler_covers_each_item_once() -> None:
    data = list(range(7))
    parts = []
    for rank in range(3):
        s = UnpaddedDistributedSampler.__new__(UnpaddedDistributedSampler)
        torch.utils.data.DistributedSampler.__init__(s, data, num_replicas=3, rank=rank, shuffle=False)
        parts.append(list(s))
        assert len(s) == len(parts[-1])
    assert sorted(i for p in parts for i in p) == data


def test_two_process_ddp(tmp_path: Path, dataset: Path) -> None:
    cfg = {
        "model": TINY_MODEL,
        "optimizer": {"lr": 0.003},
        # 3 val photos over 2 ranks: torch's padding sampler would count one of them twice
        "data": {"crop": 64, "batch_size": 2, "val_batch_size": 1, "num_workers": 0, "max_val": 3,
                 "damage": {"max_bbox": 100}},
        "trainer": {"max_steps": 3, "val_check_interval": 3, "checkpoint_every": 1, "log_every_n_steps": 1},
    }
    config = tmp_path / "ddp.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "restoria.cli", "train", "--config", str(config), "--data", str(dataset),
           "--out", str(out), "--devices", "2"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Starting with 2 processes" in res.stderr + res.stdout
    assert len([line for line in res.stdout.splitlines() if line.startswith("{")]) == 1  # rank 0 reports

    ranks = json.loads((out / "ranks.json").read_text())
    assert ranks["world_size"] == 2 and ranks["params_in_sync"] and ranks["in_sync"]
    assert [r["rank"] for r in ranks["ranks"]] == [0, 1]

    with open(out / "logs" / "metrics.csv") as fh:
        logged = [float(r["val/score"]) for r in csv.DictReader(fh) if r.get("val/score")]
    assert len(logged) == 1
    last = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["global_step"] == 3

    # the same weights validated by one process over all 3 photos give the logged score
    task = RestoreTask(model=TINY_MODEL)
    task.net = load_model(out / "model.safetensors")
    dm = RestoreDataModule(str(dataset), crop=64, val_batch_size=1, max_val=3)
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False, enable_model_summary=False)
    single = trainer.validate(task, datamodule=dm, verbose=False)[0]["val/score"]
    assert abs(single - logged[0]) < 1e-5, (single, logged[0])
