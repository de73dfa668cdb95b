"""What multi-process (DDP) training adds to the one training path: proof that the ranks agree.

DDP keeps parameters equal by averaging gradients. Buffers (batch-norm running statistics) are
updated in each rank's forward pass: SyncBatchNorm keeps them equal on GPUs; elsewhere DDP broadcasts
rank 0's buffers before every forward, so after the last step each rank still holds its own. At the end
of training `RankAgreement` checks that the parameters agree on every rank, then broadcasts rank 0's
buffers (what the next forward would do) and checks the whole state, writing RUN/ranks.json, so a run
that silently diverged is caught instead of shipped from rank 0 alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch.utils.data import Dataset, DistributedSampler

log = logging.getLogger(__name__)


def state_fingerprint(module: torch.nn.Module, buffers: bool = True) -> str:
    """sha1 over every parameter (and buffer) — names, shapes and exact bytes — in state_dict order."""
    h = hashlib.sha1()
    names = {n for n, _ in module.named_parameters()}
    for name, tensor in module.state_dict().items():
        if not buffers and name not in names:
            continue
        t = tensor.detach().cpu()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def world_size() -> int:
    """Processes in the running process group (1 outside DDP)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size()
    return 1


def gather_objects(value: Any) -> list[Any]:
    """Every rank's `value`, in rank order (just [value] outside DDP)."""
    if world_size() == 1:
        return [value]
    out: list[Any] = [None] * world_size()
    torch.distributed.all_gather_object(out, value)
    return out


class UnpaddedDistributedSampler(DistributedSampler):
    """Rank r validates items r, r + W, r + 2W, ... and nothing else. torch's DistributedSampler pads
    every rank to the same length by repeating items, which counts those photos twice in a validation
    score; Lightning keeps a sampler of this type instead of installing its own."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset, shuffle=False, drop_last=False)

    def __iter__(self):  # type: ignore[override]
        return iter(range(self.rank, len(self.dataset), self.num_replicas))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(range(self.rank, len(self.dataset), self.num_replicas))  # type: ignore[arg-type]


class RankAgreement(Callback):
    """At the end of fit, compare every rank's `pl_module.net`; rank 0 writes `path`: {"world_size",
    "params_in_sync", "in_sync", "ranks": [{"rank", "params_sha1", "sha1"}]}. A disagreement of the
    parameters is logged as an error: gradients were not averaged the same way on every rank."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        net = pl_module.net
        params = state_fingerprint(net, buffers=False)
        if world_size() > 1:
            for buf in net.buffers():
                torch.distributed.broadcast(buf.data, src=0)
        mine = {"rank": trainer.global_rank, "params_sha1": params, "sha1": state_fingerprint(net)}
        ranks = sorted(gather_objects(mine), key=lambda r: r["rank"])
        if not trainer.is_global_zero:
            return
        report = {
            "world_size": trainer.world_size,
            "params_in_sync": len({r["params_sha1"] for r in ranks}) == 1,
            "in_sync": len({r["sha1"] for r in ranks}) == 1,
            "ranks": ranks,
        }
        if not report["in_sync"]:
            log.error("ranks ended with different weights: %s", ranks)
        self.path.write_text(json.dumps(report, indent=1) + "\n")
