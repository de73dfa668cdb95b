"""`restoria restore --engine ray` on a real local Ray (Ray Data actors, no mocks): the same photos as the
local engine, bad files reported one line each, `--skip-done` re-runs, and a clear line without Ray."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import invoke
from PIL import Image

NAMES = ("astronaut", "chelsea", "coffee")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray (2 CPUs) for the whole module: the CLI joins a Ray the process already runs."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


@pytest.fixture
def three(tmp_path: Path, photos: dict[str, np.ndarray]) -> Path:
    """Three bundled photos, one of them gray, in a folder of their own."""
    src = tmp_path / "in"
    src.mkdir()
    for name in NAMES:
        Image.fromarray(photos[name]).save(src / f"{name}.png")
    Image.open(src / "coffee.png").convert("L").save(src / "coffee.png")
    return src


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(int)


def test_ray_writes_what_the_local_engine_writes(three: Path, tmp_path: Path, runner, local_ray) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each of the 2 actors on 2 CPUs: 2 threads sum in another order (up to 2 levels apart)
    try:
        local = invoke(runner, "restore", three, "--out", tmp_path / "local")
    finally:
        torch.set_num_threads(threads)
    assert local.exit_code == 0, local.output
    res = invoke(runner, "restore", three, "--out", tmp_path / "ray", "--engine", "ray", "--workers", 2)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == sorted(f"{n}.png" for n in NAMES)
    for name in NAMES:  # the same per-photo code, weights and thread count: identical pixels
        np.testing.assert_array_equal(pixels(tmp_path / "ray" / f"{name}.png"), pixels(tmp_path / "local" / f"{name}.png"))
    assert f"{three / 'astronaut.png'}: a photo in colour: its colours kept" in res.stderr  # notes come back too
    assert "wrote 3 photos" in res.stderr


def test_a_bad_file_is_one_line_and_the_others_are_written(three: Path, tmp_path: Path, runner, local_ray) -> None:
    (three / "bad.png").write_text("text, not a PNG")
    res = invoke(runner, "restore", three, "--out", tmp_path / "out", "--engine", "ray")
    assert res.exit_code == 2
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [ln for ln in errors if ln.startswith(f"error: {three / 'bad.png'}: ")] and len(errors) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}.png" for n in NAMES)


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_skip_done_keeps_what_is_there_and_restores_the_rest(three: Path, tmp_path: Path, runner, local_ray, engine: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    planted = np.full((8, 8, 3), 7, np.uint8)  # not what a restore would write
    Image.fromarray(planted).save(out / "astronaut.png")
    before = (out / "astronaut.png").stat().st_mtime_ns
    res = invoke(runner, "restore", three, "--out", out, "--engine", engine, "--skip-done")
    assert res.exit_code == 0, res.output
    assert "wrote 2 photos" in res.stderr and "(1 already there: skipped)" in res.stderr
    np.testing.assert_array_equal(pixels(out / "astronaut.png"), planted)
    assert (out / "astronaut.png").stat().st_mtime_ns == before
    assert pixels(out / "chelsea.png").shape == pixels(three / "chelsea.png").shape
    assert pixels(out / "coffee.png").shape[:2] == pixels(three / "coffee.png").shape[:2]


def test_predict_on_ray_writes_what_the_local_engine_writes_and_reports_a_bad_row(
    dataset: Path, tmp_path: Path, runner, local_ray
) -> None:
    """A copy of the competition-layout dataset with one row whose input is not a photo: both engines
    write every other row's <ID>.png with the same pixels and the ZIP, and name the bad file once."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    (data / "test_input" / "broken.png").write_text("text, not a PNG")
    with open(data / "test.csv", "a") as f:
        f.write("broken,./test_input/broken.png,broken\n")
    ids = [line.split(",")[0] for line in (data / "test.csv").read_text().splitlines()[1:]]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = invoke(runner, "predict", "--data", data, "--out", tmp_path / "local")
    finally:
        torch.set_num_threads(threads)
    res = invoke(runner, "predict", "--data", data, "--out", tmp_path / "ray", "--zip", tmp_path / "sub.zip", "--engine", "ray")
    for r in (local, res):
        assert r.exit_code == 2
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1 and errors[0].startswith(f"error: {data / 'test_input' / 'broken.png'}: "), r.stderr
    good = sorted(f"{i}.png" for i in ids if i != "broken")
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == good
    for name in good:
        np.testing.assert_array_equal(pixels(tmp_path / "ray" / name), pixels(tmp_path / "local" / name))
    import zipfile

    assert sorted(zipfile.ZipFile(tmp_path / "sub.zip").namelist()) == good


@pytest.mark.parametrize("command", ["restore", "predict"])
def test_without_ray_one_line_says_what_to_install(
    three: Path, dataset: Path, tmp_path: Path, runner, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as it would without the package
    inputs = [three] if command == "restore" else ["--data", dataset]
    res = invoke(runner, command, *inputs, "--out", tmp_path / "out", "--engine", "ray")
    assert res.exit_code == 2
    assert res.stderr.strip() == "error: --engine ray needs Ray: pip install 'restoria[ray]'"
    assert not (tmp_path / "out").exists()
    # and the command line itself never imports Ray
    code = "import sys, restoria.cli, restoria.commands.restore, restoria.commands.ray_engine; sys.exit('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
