"""Faults: kill -9 in the middle of training, predict and restore, as a power cut or an OOM killer would."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import TINY_MODEL
from PIL import Image

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
CLI = [sys.executable, "-m", "restoria.cli"]


def kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> None:
    """SIGKILL `proc` as soon as `ready()` is true; fail if it ends or times out first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"the process ended (rc {proc.returncode}) before it could be killed: {proc.stderr.read()[-2000:]}")
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail("timed out waiting for the moment to kill")


def ckpt_step(path: Path) -> int:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=False)["global_step"])
    except Exception:  # not written yet
        return -1


def val_scores(run: Path) -> dict[int, float]:
    with open(run / "logs" / "metrics.csv") as fh:
        return {int(r["step"]): float(r["val/score"]) for r in csv.DictReader(fh) if r.get("val/score")}


def test_kill_during_training_then_resume(tmp_path: Path, dataset: Path) -> None:
    cfg = {
        "model": TINY_MODEL,
        "optimizer": {"lr": 0.003},
        "data": {"crop": 64, "batch_size": 2, "val_batch_size": 2, "num_workers": 0, "damage": {"max_bbox": 100}},
        "trainer": {"max_steps": 10, "val_check_interval": 5, "checkpoint_every": 1, "log_every_n_steps": 1},
    }
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg))
    train = [*CLI, "train", "--config", str(config), "--data", str(dataset)]

    whole = tmp_path / "whole"
    assert subprocess.run([*train, "--out", str(whole)], env=ENV, capture_output=True).returncode == 0

    cut = tmp_path / "cut"
    proc = subprocess.Popen([*train, "--out", str(cut)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kill_when(proc, lambda: ckpt_step(cut / "checkpoints" / "last.ckpt") >= 6)
    assert proc.returncode == -signal.SIGKILL
    killed_at = ckpt_step(cut / "checkpoints" / "last.ckpt")
    assert 6 <= killed_at < 10

    res = subprocess.run([*train, "--out", str(cut), "--resume"], env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    assert ckpt_step(cut / "checkpoints" / "last.ckpt") == ckpt_step(whole / "checkpoints" / "last.ckpt") == 10
    # the resumed run validated at the same steps and ends within noise of the uninterrupted one
    # (the damage drawn after the resume differs: its random state is not in the checkpoint)
    a, b = val_scores(whole), val_scores(cut)
    assert set(a) == set(b) == {4, 9}
    assert a[4] == pytest.approx(b[4], abs=1e-6)  # before the kill: the same run
    assert abs(a[9] - b[9]) < 0.05, (a, b)


def many_copies(folder: Path, photo: np.ndarray, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = [folder / f"p{i:02d}.png" for i in range(n)]
    Image.fromarray(photo).save(paths[0])
    for p in paths[1:]:
        shutil.copy(paths[0], p)
    return paths


def assert_only_complete_pngs(out: Path, size: tuple[int, int], total: int) -> int:
    """Every *.png in `out` decodes completely at `size`; returns how many there are."""
    pngs = sorted(out.glob("*.png"))
    for p in pngs:
        with Image.open(p) as im:
            im.load()  # a truncated file raises here
            assert im.size == size and im.mode == "RGB", p
    assert 0 < len(pngs) < total, f"killed too early or too late: {len(pngs)} of {total}"
    return len(pngs)


def test_kill_during_restore_leaves_complete_pngs(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    gray = np.asarray(Image.fromarray(photos["astronaut"]).convert("L").resize((256, 256)))
    many_copies(tmp_path / "in", gray, 40)
    out = tmp_path / "out"
    cmd = [*CLI, "restore", str(tmp_path / "in"), "--out", str(out), "--classifier", "none"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kill_when(proc, lambda: len(list(out.glob("*.png"))) >= 2)
    assert_only_complete_pngs(out, (256, 256), 40)


def test_kill_during_predict_leaves_complete_pngs(tmp_path: Path, dataset: Path) -> None:
    rows = list(csv.DictReader(open(dataset / "test.csv")))
    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    with open(data / "test.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["ID", "input_image_path"])
        w.writeheader()
        for i in range(60):
            w.writerow({"ID": f"r{i:02d}", "input_image_path": rows[i % len(rows)]["input_image_path"]})
    out = tmp_path / "pred"
    proc = subprocess.Popen([*CLI, "predict", "--data", str(data), "--out", str(out)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    kill_when(proc, lambda: len(list(out.glob("*.png"))) >= 2)
    first = assert_only_complete_pngs(out, (128, 128), 60)
    # running it again completes the set
    res = subprocess.run([*CLI, "predict", "--data", str(data), "--out", str(out)], env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(list(out.glob("*.png"))) == 60 > first
