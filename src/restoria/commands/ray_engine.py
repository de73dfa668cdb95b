"""`restoria restore --engine ray` and `restoria predict --engine ray`: the same work, spread over the actors
of a Ray cluster (Ray Data).

Each actor builds one Restorer when it starts (the weights are loaded once per worker, not once per
photo) and runs the local engine's own per-photo code on its rows (`restore_one`, `predict_one`);
output names are fixed on the driver before any row is sent. Every path travels absolute, so inputs,
weights and OUT must be on a filesystem every worker sees under the same path.

Ray is imported here only, and only when this engine runs: `restoria` works without it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from restoria.commands.predict import predict_one
from restoria.commands.restore import Outcome, plan, restore_one
from restoria.io import InputError

INSTALL_HINT = "--engine ray needs Ray: pip install 'restoria[ray]'"
# one photo per block: the driver's progress bar moves photo by photo and idle actors take the next
# photo; past this many photos, blocks hold several (the per-block overhead stays small)
MAX_BLOCKS = 10_000


class EngineError(Exception):
    """The Ray engine cannot run (no cluster at --ray-address; the actors cannot build their Restorer:
    a missing weights file, a bad option): the user's mistake, told in one line."""


def require_ray() -> Any:
    """The `ray` module, or an ImportError whose message is the one line telling what to install."""
    try:
        import ray
        import ray.data  # the `data` extra: pandas, pyarrow
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return ray


# the work on one row: (photo, output name, OUT, restorer, **job_kwargs) -> Outcome
Job = Callable[..., Outcome]


class Worker:
    """A Ray Data actor: one Restorer for its whole life, then the engine's `job` on each row it is given.

    A Restorer that cannot be built (a missing weights file, a bad option) is not raised here, where Ray
    would turn it into a dead actor and a traceback: every row answers it as `fatal`, and the driver
    stops with that one line."""

    def __init__(self, restorer: dict[str, Any], job: Job, job_kwargs: dict[str, Any], out: str, threads: int) -> None:
        import torch

        from restoria.inference.restorer import Restorer

        torch.set_num_threads(threads)
        self.job, self.job_kwargs, self.out = job, job_kwargs, Path(out)
        self.restorer: Restorer | None = None
        self.fatal = ""
        try:
            self.restorer = Restorer(**restorer)
        except (InputError, ValueError) as exc:
            self.fatal = str(exc)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        """Each row (i, path, name) -> (i, written, error_path, error, notes, fatal); "" where none."""
        rows: dict[str, list] = {k: [] for k in ("i", "written", "error_path", "error", "notes", "fatal")}
        for i, path, name in zip(batch["i"], batch["path"], batch["name"]):
            outcome = Outcome()
            if self.restorer is not None:
                outcome = self.job(Path(path), str(name), self.out, self.restorer, **self.job_kwargs)
            rows["i"].append(int(i))
            rows["fatal"].append(self.fatal)
            rows["written"].append(str(outcome.written or ""))
            rows["error_path"].append(outcome.error.path if outcome.error else "")
            rows["error"].append(outcome.error.reason if outcome.error else "")
            rows["notes"].append("\n".join(outcome.notes))
        return rows


def connect(address: str | None) -> bool:
    """Use the Ray this process already runs, join the cluster at `address` (ray://host:10001, auto),
    or start a local Ray; True when this call started or joined it (the caller then shuts it down)."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    if not address:  # "local": a new Ray on this machine, never a cluster found lying around
        ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING)
        return True
    try:
        ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, ValueError) as exc:
        raise EngineError(f"--ray-address {address}: {exc}") from exc
    return True


def actor_cpus(cluster_cpus: float, workers: int) -> float:
    """CPUs each of `workers` actors asks for so that all of them fit: whole CPUs where there are enough
    (they pack onto nodes), else an equal share."""
    share = cluster_cpus / workers
    return float(math.floor(share)) if share >= 1 else round(share, 4)


def run_rows(
    todo: list[tuple[Path, str]],
    out: Path,
    restorer: dict[str, Any],
    job: Job,
    job_kwargs: dict[str, Any],
    progress: Callable[[int], None] | None = None,
    workers: int = 2,
    address: str | None = None,
) -> dict[int, Outcome]:
    """Run `job` on each (photo, output name) of `todo` on `workers` actors; the outcomes by index into
    `todo`, errors named as the user named the photo. Raises EngineError when no cluster answers at
    `address` or the actors cannot build their Restorer."""
    ray = require_ray()
    if not todo:
        return {}
    started = connect(address)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # the driver shows its own, photo by photo
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no execution-plan chatter on stderr
        per_actor = actor_cpus(ray.cluster_resources().get("CPU", 1.0), workers)
        rows = [{"i": i, "path": str(f.absolute()), "name": name} for i, (f, name) in enumerate(todo)]
        ds = ray.data.from_items(rows, override_num_blocks=min(len(rows), MAX_BLOCKS)).map_batches(
            Worker,
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=per_actor,
            fn_constructor_kwargs={
                "restorer": restorer, "job": job, "job_kwargs": job_kwargs, "out": str(out.absolute()),
                "threads": max(1, int(per_actor)),
            },
        )
        outcomes: dict[int, Outcome] = {}
        for row in ds.iter_rows():
            if row["fatal"]:
                raise EngineError(row["fatal"])
            i = int(row["i"])
            f = todo[i][0]
            outcome = Outcome(notes=row["notes"].split("\n") if row["notes"] else [])
            if row["written"]:
                outcome.written = out / Path(row["written"]).name  # OUT as the user wrote it
            if row["error"]:  # named as the user named it (a mask's own error names the mask)
                outcome.error = InputError(f if row["error_path"] == str(f.absolute()) else row["error_path"], row["error"])
            outcomes[i] = outcome
            if progress:
                progress(1)
    finally:
        if started:
            ray.shutdown()
    return outcomes


def restore_on_ray(
    files: list[Path],
    out: Path,
    restorer: dict[str, Any],
    mask: Path | None = None,
    save_stages: bool = False,
    colour: str = "auto",
    progress: Callable[[int], None] | None = None,
    skip_done: bool = False,
    workers: int = 2,
    address: str | None = None,
) -> tuple[list[Path], list[InputError], list[str]]:
    """The Ray engine of `restore`: `restore_files`' contract (written, errors, notes), the photos
    restored by `workers` actors. `restorer` is `restorer_kwargs(...)`. Raises EngineError when no
    cluster answers at `address` or the actors cannot build their Restorer, ImportError (INSTALL_HINT)
    without Ray."""
    require_ray()
    todo, skipped = plan(files, out, skip_done)
    if progress and skipped:
        progress(len(skipped))
    job_kwargs = {
        "inputs": frozenset(f.resolve() for f in files), "mask": mask.absolute() if mask else None,
        "save_stages": save_stages, "colour": colour,
    }
    outcomes = run_rows(todo, out, restorer, restore_one, job_kwargs, progress, workers, address)
    ordered = [(todo[i][0], outcomes[i]) for i in sorted(outcomes)]  # input order
    written = [o.written for _, o in ordered if o.written is not None]
    errors = [o.error for _, o in ordered if o.error is not None]
    return written, errors, [f"{f}: {n}" for f, o in ordered for n in o.notes]


def predict_on_ray(
    todo: list[tuple[Path, str]],
    out: Path,
    restorer: dict[str, Any],
    progress: Callable[[int], None] | None = None,
    workers: int = 2,
    address: str | None = None,
) -> tuple[list[Path], list[InputError]]:
    """The Ray engine of `predict`: each (input, ID) of `todo` (`restoria.commands.predict.plan_rows`)
    restored by `workers` actors into OUT/<ID>.png; (written, errors) in row order."""
    require_ray()
    outcomes = run_rows(todo, out, restorer, predict_one, {}, progress, workers, address)
    ordered = [outcomes[i] for i in sorted(outcomes)]
    return [o.written for o in ordered if o.written is not None], [o.error for o in ordered if o.error is not None]
