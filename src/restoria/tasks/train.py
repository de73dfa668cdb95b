"""The one training path every task shares: config -> LightningModule + DataModule -> Trainer.

A run folder holds `checkpoints/` (best by the monitored metric, and `last.ckpt` every few steps so a
kill loses little), `logs/metrics.csv` (+ TensorBoard events when tensorboard is installed),
`config.yaml` (what was run), `model.safetensors` (the best weights, in the shipped format) and
`last.safetensors` (the last step's).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import Callback, EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from restoria.config import load_config, merge
from restoria.data.classify import ClassifyDataModule
from restoria.data.generative import GenerativeDataModule
from restoria.data.restore import RestoreDataModule
from restoria.data.segment import SegmentDataModule
from restoria.data.superres import SRDataModule
from restoria.data.unpaired import UnpairedDataModule
from restoria.distributed import RankAgreement
from restoria.io import write_csv
from restoria.tasks.autoencoder import AutoencoderTask
from restoria.tasks.classify import ClassifyTask
from restoria.tasks.cyclegan import CycleGANTask
from restoria.tasks.enhance import EnhanceTask
from restoria.tasks.gan import GANTask
from restoria.tasks.restore import RestoreTask
from restoria.tasks.restore_adversarial import AdversarialRestoreTask
from restoria.tasks.segment import SegmentTask
from restoria.tasks.superres import SuperResTask
from restoria.weights import save_weights

log = logging.getLogger(__name__)

TASKS: dict[str, tuple[type[L.LightningModule], type[L.LightningDataModule]]] = {
    "restore": (RestoreTask, RestoreDataModule),
    "restore_adversarial": (AdversarialRestoreTask, RestoreDataModule),
    "cyclegan": (CycleGANTask, UnpairedDataModule),
    "segment": (SegmentTask, SegmentDataModule),
    "classify": (ClassifyTask, ClassifyDataModule),
    "gan": (GANTask, GenerativeDataModule),
    "wgan_gp": (GANTask, GenerativeDataModule),
    "cgan": (GANTask, GenerativeDataModule),
    "ae": (AutoencoderTask, GenerativeDataModule),
    "vae": (AutoencoderTask, GenerativeDataModule),
    "superres": (SuperResTask, SRDataModule),
    "enhance": (EnhanceTask, SRDataModule),
}


def keep_metrics_history(log_dir: Path) -> list[dict[str, str]]:
    """Lightning's CSV logger deletes metrics.csv when a run starts again: move it aside first
    (metrics.before-resume.csv, so a kill cannot lose it) and return its rows."""
    current, aside = log_dir / "metrics.csv", log_dir / "metrics.before-resume.csv"
    rows = read_metrics(aside)
    if current.exists():
        rows += read_metrics(current)
        write_metrics(aside, rows)
        current.unlink()
    return rows


def read_metrics(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def write_metrics(path: Path, rows: list[dict[str, str]]) -> None:
    columns = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("epoch", "step"), k))
    write_csv(path, rows, columns)


class ExportBest(Callback):
    """Write the best weights as safetensors each time the monitored metric improves.

    Its best value travels in the checkpoint, so a resumed run does not overwrite better weights.
    """

    def __init__(self, path: Path, monitor: str, mode: str, model_cfg: dict[str, Any], config: dict[str, Any]) -> None:
        self.path = path
        self.monitor = monitor
        self.sign = 1.0 if mode == "max" else -1.0
        self.model_cfg = model_cfg
        self.config = config
        self.best: float | None = None
        self.validated_step: int | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.validated_step = trainer.global_step
        current = trainer.callback_metrics.get(self.monitor)
        if current is None:
            return
        value = float(current)
        if self.best is not None and self.sign * value <= self.sign * self.best:
            return
        self.best = value
        if trainer.is_global_zero:
            save_weights(pl_module.net, self.path, self.model_cfg, step=trainer.global_step, val=value, monitor=self.monitor, config=self.config)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")


def build_trainer_kwargs(cfg: dict[str, Any], devices: int | str, num_nodes: int) -> dict[str, Any]:
    t = cfg["trainer"]
    # a float interval is a fraction of an epoch (1.0: once per epoch), also in runs bounded by steps
    per_epoch = t["max_epochs"] is not None or isinstance(t["val_check_interval"], float)
    precision = t["precision"]
    if precision == "auto":
        precision = "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"
    return {
        "max_steps": t["max_steps"] if t["max_steps"] is not None else -1,
        "max_epochs": t["max_epochs"],
        "val_check_interval": t["val_check_interval"],
        "check_val_every_n_epoch": 1 if per_epoch else None,
        "precision": precision,
        "log_every_n_steps": t["log_every_n_steps"],
        "gradient_clip_val": t["gradient_clip_val"],
        # batch-norm statistics from the global batch (torch's SyncBatchNorm needs GPUs; on CPU, DDP
        # broadcasts rank 0's statistics before every forward instead)
        "sync_batchnorm": bool(t["sync_batchnorm"]) and torch.cuda.is_available(),
        "accelerator": "auto",
        "devices": devices,
        "num_nodes": num_nodes,
    }


TASK_KEYS = ("model", "loss", "optimizer", "val_chroma_gains", "init", "freeze", "discriminator", "colorize_from", "val_pipeline", "ageing", "clean_fraction", "train_crop")


def build_task(cfg: dict[str, Any]) -> L.LightningModule:
    """The LightningModule a loaded config names, from the config's task-level keys."""
    return TASKS[cfg["task"]][0](**{k: cfg[k] for k in TASK_KEYS if k in cfg})


def train(
    config: str | Path | None,
    data: str | Path,
    out: str | Path,
    max_steps: int | None = None,
    max_epochs: int | None = None,
    folds: int | None = None,
    fold: int = 0,
    devices: int | str = "auto",
    num_nodes: int = 1,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Train the task a config names; returns the final callback metrics."""
    cfg = merge(load_config(config), overrides or {})
    if max_steps is not None:
        cfg["trainer"]["max_steps"], cfg["trainer"]["max_epochs"] = max_steps, None
    if max_epochs is not None:
        cfg["trainer"]["max_epochs"], cfg["trainer"]["max_steps"] = max_epochs, None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_dir = out / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    if resume and not last.exists():
        raise FileNotFoundError(f"{last}: nothing to resume (no last checkpoint in {out})")
    if not resume and last.exists():
        raise FileExistsError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    L.seed_everything(cfg["seed"], workers=True)
    module = build_task(cfg)
    data_cls = TASKS[cfg["task"]][1]
    if not module.automatic_optimization and cfg["trainer"]["gradient_clip_val"]:
        # Lightning clips only the steps it takes itself; an adversarial task steps its own optimisers
        log.warning("task %s steps its own optimisers: trainer.gradient_clip_val is not applied", cfg["task"])
        cfg["trainer"]["gradient_clip_val"] = None
    datamodule = data_cls(data=str(data), folds=folds, fold=fold, **cfg["data"])

    mode = cfg["monitor_mode"]
    best = ModelCheckpoint(dirpath=ckpt_dir, filename="best-{step}", monitor=cfg["monitor"], mode=mode, save_top_k=1)
    periodic = ModelCheckpoint(dirpath=ckpt_dir, filename="last", every_n_train_steps=cfg["trainer"]["checkpoint_every"], save_top_k=1, enable_version_counter=False)
    export = ExportBest(out / "model.safetensors", cfg["monitor"], mode, dict(cfg["model"]), cfg)
    callbacks: list[Callback] = [
        best,
        periodic,
        export,
        EarlyStopping(monitor=cfg["monitor"], mode=mode, patience=cfg["trainer"]["early_stopping_patience"]),
        LearningRateMonitor(logging_interval="step"),
        RankAgreement(out / "ranks.json"),
    ]
    history = keep_metrics_history(out / "logs") if resume else []
    loggers: list[Any] = [CSVLogger(save_dir=out, name="", version="logs")]
    try:
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=out, name="", version="tensorboard"))
    except ModuleNotFoundError:
        pass
    trainer = L.Trainer(callbacks=callbacks, logger=loggers, default_root_dir=out, **build_trainer_kwargs(cfg, devices, num_nodes))
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if resume else None)
    trainer.save_checkpoint(last)
    if trainer.is_global_zero:  # the last step too, for runs chosen by a benchmark rather than the monitor
        save_weights(module.net, out / "last.safetensors", dict(cfg["model"]), step=trainer.global_step, config=cfg)
    if export.validated_step != trainer.global_step and not trainer.should_stop:
        trainer.validate(module, datamodule=datamodule, verbose=False)  # the last steps count too
    if history and trainer.is_global_zero:
        loggers[0].save()
        write_metrics(out / "logs" / "metrics.csv", history + read_metrics(out / "logs" / "metrics.csv"))
        (out / "logs" / "metrics.before-resume.csv").unlink()
    return {k: float(v) for k, v in trainer.callback_metrics.items()}
