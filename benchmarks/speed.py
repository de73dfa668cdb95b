"""How fast `restore` is at 512x512, in one run: photos per minute for each backend, where the time goes
(stage by stage, the fill's share), and the speed-up of each change that was made for speed.

    python benchmarks/speed.py                   # the bundled photos at 512x512 with competition damage
    python benchmarks/speed.py --photos 20 --data data/train512 --rounds 2

Then the whole `restoria restore` command on the same photos, start-up included (imports, weights,
onnxruntime sessions; the export cache warmed by a first round), for each backend: what a user waits for.

Every configuration restores the same damaged photos (the bundled ones, then a prepared test split's
when `--data` has one, resized to 512x512, each with one competition polygon) with the shipped weights,
configurations taking turns round by round so a shared CPU slows each alike; the fastest round counts.
Rows: the whole restore on torch and on onnxruntime (fp32, and int8 when `--int8` quantises the
exported graphs dynamically, or `--int8-static` all but the colorizer's statically, calibrated on four
other photos: its score change against fp32 is printed beside it), the default FSR fill against
`--fill telea`, the real-damage map from one view (`--damage-views 1`) against the default eight; and
the changes: onnxruntime over torch, windowed classical fills over whole-photo
ones (`restoria.fill.fill_in_windows`), the batched FSR (`restoria.fsr`) over OpenCV's.

    python benchmarks/speed.py --photos 20 --rounds 2 --threads 2                 # README's table
    python benchmarks/speed.py --photos 20 --rounds 2 --threads 2 --int8-static   # + int8 (measured, not offered)
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from restoria.commands.examples import bundled_photos
from restoria.data.base import layout_rows
from restoria.data.damage import apply_damage
from restoria.fill import classical_fill_image, xphoto_fill
from restoria.imaging import to_gray
from restoria.inference.restorer import Restorer
from restoria.io import read_image
from restoria.metrics.score import image_scores

TIMED = ("detect", "enhance", "fill", "colorize")


def photos(n: int, data: Path | None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(colour truth, damaged gray, mask) at 512x512."""
    rgbs = [cv2.resize(p, (512, 512), interpolation=cv2.INTER_AREA) for p in bundled_photos().values() if p.ndim == 3]
    if data and (data / "test.csv").exists():
        rgbs += [read_image(r.gt, "RGB") for r in layout_rows(data, "test") if r.gt is not None]
    out = []
    for i, rgb in enumerate(rgbs[:n]):
        damaged, mask = apply_damage(to_gray(rgb), np.random.default_rng(i))
        out.append((rgb, damaged, mask))
    return out


class StageClock:
    """Seconds spent in each stage of one Restorer: its stage methods (and its enhancer) wrapped on the instance."""

    def __init__(self, restorer: Restorer) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        for name in ("detect", "fill", "colorize"):
            setattr(restorer, name, self.timed(name, getattr(restorer, name)))
        if restorer.enhancer is not None:
            restorer.enhancer = _TimedEnhancer(restorer.enhancer, self.timed("enhance", restorer.enhancer.__call__))  # type: ignore[assignment]

    def timed(self, name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return wrapper


class _TimedEnhancer:
    """The enhancer, called through a timer (Python looks `__call__` up on the type, not the instance)."""

    def __init__(self, inner: object, call: Callable) -> None:
        self._inner, self._call = inner, call

    def __call__(self, *args: object, **kwargs: object) -> np.ndarray:
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


class _Recorder:
    """A session that keeps every input it is run on: calibration data for static quantisation."""

    def __init__(self, session: object, feeds: list[dict[str, np.ndarray]]) -> None:
        self._session, self._feeds = session, feeds

    def run(self, outputs: object, feed: dict[str, np.ndarray]) -> object:
        self._feeds.append({k: v.copy() for k, v in feed.items()})
        return self._session.run(outputs, feed)

    def __getattr__(self, name: str) -> object:
        return getattr(self._session, name)


def _sessions(restorer: Restorer) -> list[tuple[object, str]]:
    """Every onnxruntime session a restorer runs, as (holder, attribute or key) pairs."""
    found: list[tuple[object, str]] = []
    for net in [*restorer.models, *(getattr(x, "net", None) for x in (*restorer.segmenters, restorer.classifier, restorer.enhancer))]:
        if hasattr(net, "session"):
            found.append((net, "session"))
        for key in getattr(net, "sessions", {}):
            found.append((net.sessions, key))
    return found


def _get(holder: object, key: str) -> object:
    return holder[key] if isinstance(holder, dict) else getattr(holder, key)


def _set(holder: object, key: str, value: object) -> None:
    if isinstance(holder, dict):
        holder[key] = value
    else:
        setattr(holder, key, value)


def quantize(restorer: Restorer, threads: int, calibration: list[np.ndarray] | None = None) -> Restorer:
    """`restorer` (on onnxruntime) with its graphs quantised to int8: every one dynamically (weights
    only, ConvInteger) when no `calibration` photos are given, else statically (QDQ convolutions: weights
    per channel and activations, their ranges calibrated on what each graph sees while those photos are
    restored) all but the colorizer."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static

    from restoria.inference.onnx_backend import open_session

    feeds: dict[int, list[dict[str, np.ndarray]]] = {}
    if calibration is not None:
        for i, (holder, key) in enumerate(_sessions(restorer)):
            feeds[i] = []
            _set(holder, key, _Recorder(_get(holder, key), feeds[i]))
        for gray in calibration:
            restorer(gray)
        for holder, key in _sessions(restorer):
            _set(holder, key, _get(holder, key)._session)  # type: ignore[attr-defined]

    class Reader(CalibrationDataReader):
        def __init__(self, rows: list[dict[str, np.ndarray]]) -> None:
            self.rows = iter(rows)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.rows, None)

    for i, (holder, key) in enumerate(_sessions(restorer)):
        if calibration is not None and (not feeds[i] or key == "color"):
            # a graph the pipeline did not run (U-Net #1's fill when FSR fills), and the colorizer: with
            # its encoder's convolutions quantised its colours move (22-26 dB from float on 5 photos;
            # its decoder's alone stay within 48 dB but gain no time), so it stays in float
            continue
        path = Path(_get(holder, key)._model_path)  # type: ignore[attr-defined]
        out = path.with_suffix(".int8-static.onnx" if calibration is not None else ".int8.onnx")
        if not out.exists():
            if calibration is None:
                quantize_dynamic(str(path), str(out), weight_type=QuantType.QUInt8)
            else:
                quantize_static(str(path), str(out), Reader(feeds[i]), quant_format=QuantFormat.QDQ, per_channel=True,
                                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"])
        _set(holder, key, open_session(out, threads))
    return restorer


def command_rates(cases: list[tuple[np.ndarray, np.ndarray, np.ndarray]], threads: int, rounds: int) -> dict[str, float]:
    """Photos a minute of the whole `restoria restore` command on each backend, start-up included, best
    of `rounds` after a first round that warms the export cache and the disk."""
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        photos_dir = Path(tmp) / "photos"
        photos_dir.mkdir()
        for i, (_, damaged, _) in enumerate(cases):
            cv2.imwrite(str(photos_dir / f"{i:03d}.png"), damaged)
        env = os.environ | {"OMP_NUM_THREADS": str(threads)}
        for round_ in range(rounds + 1):
            for backend in ("torch", "onnx"):
                cmd = [sys.executable, "-m", "restoria.cli", "restore", str(photos_dir), "--out", f"{tmp}/{backend}-{round_}", "--backend", backend]
                start = time.perf_counter()
                subprocess.run(cmd, check=True, env=env, capture_output=True)
                if round_:
                    best[backend] = min(best.get(backend, float("inf")), time.perf_counter() - start)
    return {backend: 60 * len(cases) / took for backend, took in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=20)
    ap.add_argument("--data", type=Path, default=Path("data/train512"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--int8", action="store_true", help="also onnxruntime with int8 dynamic quantisation")
    ap.add_argument("--int8-static", action="store_true", help="also onnxruntime with int8 static (QDQ) quantisation of the detector, classifier and enhancer, calibrated on 4 other photos")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("RESTORIA_CACHE", tempfile.mkdtemp())
    cases = photos(args.photos, args.data)
    configs: dict[str, Restorer] = {
        "torch, default fill (fsr)": Restorer(backend="torch"),
        "torch, --fill telea": Restorer(backend="torch", fill="telea"),
        "onnx, default fill (fsr)": Restorer(backend="onnx"),
        "onnx, --fill telea": Restorer(backend="onnx", fill="telea"),
        "onnx, --damage-views 1": Restorer(backend="onnx", damage_views=1),
    }
    if args.int8:
        configs["onnx int8, default fill (fsr)"] = quantize(Restorer(backend="onnx"), args.threads)
    if args.int8_static:
        calibration = [damaged for _, damaged, _ in photos(args.photos + 4, args.data)[args.photos :]]
        configs["onnx int8 static, default fill (fsr)"] = quantize(Restorer(backend="onnx"), args.threads, calibration)
    clocks = {name: StageClock(r) for name, r in configs.items()}
    for r in configs.values():
        r(cases[0][1])  # warm-up (ONNX export and session start-up are not counted)
    for c in clocks.values():
        c.seconds.clear()
    best: dict[str, float] = {}
    stage_best: dict[str, dict[str, float]] = {}
    scores: dict[str, list[float]] = defaultdict(list)
    for round_ in range(args.rounds):
        for name, restorer in configs.items():
            clocks[name].seconds.clear()
            start = time.perf_counter()
            for rgb, damaged, mask in cases:
                out = restorer(damaged)
                if round_ == 0:
                    scores[name].append(image_scores(rgb, out.restored, mask)["score"])
            took = time.perf_counter() - start
            if took < best.get(name, float("inf")):
                best[name], stage_best[name] = took, dict(clocks[name].seconds)
    n = len(cases)
    console = Console(width=200)
    table = Table(title=f"restore at 512x512: {n} photos with competition damage, {args.threads} threads, best of {args.rounds} rounds")
    for col in ("configuration", "photos/min", "fill share", *(f"{s} s/photo" for s in TIMED), "score"):
        table.add_column(col)
    for name in configs:
        st = stage_best[name]
        table.add_row(
            name, f"{60 * n / best[name]:.1f}", f"{st.get('fill', 0) / best[name]:.0%}",
            *(f"{st.get(s, 0) / n:.3f}" for s in TIMED), f"{np.mean(scores[name]):.4f}",
        )
    console.print(table)
    changes = Table(title="speed-up of each change")
    for col in ("change", "speed-up", "measured as"):
        changes.add_column(col)
    pm = {k: 60 * n / v for k, v in best.items()}
    changes.add_row("onnxruntime instead of torch", f"{pm['onnx, default fill (fsr)'] / pm['torch, default fill (fsr)']:.2f}x", "whole restore, default fill")
    changes.add_row("default fill run / --fill telea run (torch)", f"{best['torch, default fill (fsr)'] / best['torch, --fill telea']:.2f}x", "time ratio (bar: <= 1.3)")
    changes.add_row("one damage view instead of eight (onnx)", f"{pm['onnx, --damage-views 1'] / pm['onnx, default fill (fsr)']:.2f}x",
                    "whole restore; the real-damage map from one view (`--damage-views 1`)")
    changes.add_row("default fill run / --fill telea run (onnx)", f"{best['onnx, default fill (fsr)'] / best['onnx, --fill telea']:.2f}x", "time ratio (bar: <= 1.3)")
    for kind in ("int8", "int8 static"):
        if (name := f"onnx {kind}, default fill (fsr)") in pm:
            changes.add_row(f"{kind} onnx instead of fp32 onnx", f"{pm[name] / pm['onnx, default fill (fsr)']:.2f}x",
                            f"score {np.mean(scores[name]) - np.mean(scores['onnx, default fill (fsr)']):+.4f}")
            changes.add_row(f"{kind} onnx instead of torch", f"{pm[name] / pm['torch, default fill (fsr)']:.2f}x", "whole restore, default fill")
    command = command_rates(cases, args.threads, args.rounds)
    changes.add_row("onnxruntime instead of torch", f"{command['onnx'] / command['torch']:.2f}x",
                    f"the whole restore command, start-up included ({command['torch']:.1f} and {command['onnx']:.1f} photos/min)")
    whole = windowed = 0.0
    for _, damaged, mask in cases:
        for flag in (False, True):
            start = time.perf_counter()
            classical_fill_image(damaged, mask, "fsr", windowed=flag)
            took = time.perf_counter() - start
            whole, windowed = (whole + took, windowed) if not flag else (whole, windowed + took)
    changes.add_row("windowed fsr fill instead of whole-photo", f"{whole / windowed:.2f}x", "the fill alone")
    theirs = ours = 0.0
    for _, damaged, mask in cases:
        start = time.perf_counter()
        xphoto_fill(damaged, mask, "INPAINT_FSR_FAST")
        theirs += time.perf_counter() - start
        start = time.perf_counter()
        classical_fill_image(damaged, mask, "fsr", windowed=False)
        ours += time.perf_counter() - start
    changes.add_row("restoria.fsr (batched rounds) instead of OpenCV's FSR", f"{theirs / ours:.2f}x", "the fill alone, whole photo")
    console.print(changes)


if __name__ == "__main__":
    main()
