"""Does Lightning's training loop cost throughput? samples/s of `Trainer.fit` against a bare PyTorch
loop of the same task, model, batch and DataLoader, in one run (goal: Lightning >= 0.9x the bare loop).

Both loops run the restore task's own `training_step` (fresh damage drawn per sample, each image
decoded once per step), AdamW at a constant learning rate, gradient clipping as in the config, after
`--warmup` steps that are not timed. The bare loop also reports the share of its time spent waiting
for the next batch: near 0 means the model, not data loading, sets the pace.

    python benchmarks/loader.py --data data/train512                    # configs/restore.yaml
    python benchmarks/loader.py --data DATA --steps 40 --workers 0 2
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
import warnings
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import CSVLogger
from rich.console import Console
from rich.table import Table

from restoria.config import load_config
from restoria.data.restore import RestoreDataModule
from restoria.tasks.restore import RestoreTask

# the bare loop calls training_step outside a Trainer, where its self.log() calls only warn
warnings.filterwarnings("ignore", message=".*self.trainer. reference is not registered")


class StepClock(Callback):
    """Wall time from the start of step `warmup` to the end of the last step."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = self.end = 0.0

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self.end = time.perf_counter()


def make(cfg: dict[str, Any], data: str, workers: int) -> tuple[RestoreTask, RestoreDataModule]:
    torch.manual_seed(0)
    optimizer = {**cfg["optimizer"], "schedule": "none"}
    task = RestoreTask(model=cfg["model"], loss=cfg["loss"], optimizer=optimizer)
    dm = RestoreDataModule(data=data, **{**cfg["data"], "num_workers": workers})
    dm.setup("fit")
    return task, dm


def lightning_loop(cfg: dict[str, Any], data: str, workers: int, steps: int, warmup: int) -> float:
    task, dm = make(cfg, data, workers)
    clock = StepClock(warmup)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = L.Trainer(
            max_steps=steps, limit_val_batches=0, num_sanity_val_steps=0, enable_checkpointing=False,
            logger=CSVLogger(tmp), log_every_n_steps=cfg["trainer"]["log_every_n_steps"], callbacks=[clock],
            gradient_clip_val=cfg["trainer"]["gradient_clip_val"], accelerator="cpu", devices=1,
            enable_model_summary=False,
        )
        trainer.fit(task, train_dataloaders=dm.train_dataloader())
    return (steps - warmup) * cfg["data"]["batch_size"] / (clock.end - clock.start)


def bare_loop(cfg: dict[str, Any], data: str, workers: int, steps: int, warmup: int) -> tuple[float, float]:
    """samples/s and the share of the timed steps spent waiting for data."""
    task, dm = make(cfg, data, workers)
    task.train()
    opt = task.configure_optimizers()
    params = [p for p in task.parameters() if p.requires_grad]
    batches = itertools.chain.from_iterable(itertools.repeat(dm.train_dataloader()))
    start, waited = 0.0, 0.0
    for step in range(steps):
        if step == warmup:
            start, waited = time.perf_counter(), 0.0
        t0 = time.perf_counter()
        batch = next(batches)
        waited += time.perf_counter() - t0
        opt.zero_grad(set_to_none=True)
        loss = task.training_step(batch, step)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg["trainer"]["gradient_clip_val"])
        opt.step()
    elapsed = time.perf_counter() - start
    return (steps - warmup) * cfg["data"]["batch_size"] / elapsed, waited / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a `restoria prepare` dataset")
    ap.add_argument("--config", default="configs/restore.yaml")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    args = ap.parse_args()
    cfg = load_config(args.config)
    table = Table(title=f"training throughput, {cfg['data']['batch_size']} x {cfg['data']['crop']}px, {torch.get_num_threads()} threads")
    for col in ("workers", "bare samples/s", "data wait", "Lightning samples/s", "Lightning / bare"):
        table.add_column(col, justify="right")
    for w in args.workers:
        bare, wait = bare_loop(cfg, args.data, w, args.steps, args.warmup)
        lit = lightning_loop(cfg, args.data, w, args.steps, args.warmup)
        table.add_row(str(w), f"{bare:.2f}", f"{wait:.1%}", f"{lit:.2f}", f"{lit / bare:.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
