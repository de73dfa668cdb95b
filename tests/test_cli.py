"""The competition workflow end to end through the command line, on real photos."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import direct_score, invoke
from PIL import Image


def test_predict_evaluate_zip(tmp_path: Path, dataset: Path, trained_run: Path, runner) -> None:
    pred, zpath = tmp_path / "pred", tmp_path / "sub.zip"
    res = invoke(runner, "predict", "--data", dataset, "--out", pred, "--weights", trained_run / "model.safetensors", "--zip", zpath)
    assert res.exit_code == 0, res.output
    with open(dataset / "test.csv") as fh:
        ids = [r["ID"] for r in csv.DictReader(fh)]
    for rid in ids:
        out = Image.open(pred / f"{rid}.png")
        assert out.mode == "RGB" and out.size == Image.open(dataset / "test_input" / f"{rid}.png").size
    with zipfile.ZipFile(zpath) as zf:
        assert sorted(zf.namelist()) == sorted(f"{i}.png" for i in ids)
    res = invoke(runner, "evaluate", "--data", dataset, "--pred", pred)
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["n"] == len(ids)
    # the command agrees with the formula computed directly on the same files
    direct = []
    for rid in ids:
        t = np.asarray(Image.open(dataset / "test_gt" / f"{rid}.png").convert("RGB"))
        p = np.asarray(Image.open(pred / f"{rid}.png").convert("RGB"))
        m = np.asarray(Image.open(dataset / "test_mask" / f"{rid}.png"))
        direct.append(direct_score(t, p, m))
    assert result["score"] == pytest.approx(float(np.mean(direct)), abs=1e-4)


def test_predict_with_an_ensemble_and_tta(tmp_path: Path, dataset: Path, trained_run: Path, runner) -> None:
    w = trained_run / "model.safetensors"
    res = invoke(runner, "predict", "--data", dataset, "--out", tmp_path / "a", "--weights", w, "--weights", w, "--tta")
    assert res.exit_code == 0, res.output
    res = invoke(runner, "predict", "--data", dataset, "--out", tmp_path / "b", "--weights", w)
    assert res.exit_code == 0, res.output
    a, b = sorted((tmp_path / "a").glob("*.png")), sorted((tmp_path / "b").glob("*.png"))
    assert [p.name for p in a] == [p.name for p in b]
    assert any(not np.array_equal(np.asarray(Image.open(p)), np.asarray(Image.open(q))) for p, q in zip(a, b))


def test_bad_rows_reported_others_written(tmp_path: Path, dataset: Path, trained_run: Path, runner) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    with open(data / "test.csv") as fh:
        rows = list(csv.DictReader(fh))
    (data / "test_input" / f"{rows[0]['ID']}.png").write_bytes(b"\x89PNG\r\n\x1a\ncorrupt")
    rows.append({"ID": "GHOST", "input_image_path": "./test_input/ghost.png", "source": "-"})
    rows.append({"ID": "ESCAPE", "input_image_path": "../outside.png", "source": "-"})
    with open(data / "test.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["ID", "input_image_path", "source"])
        w.writeheader()
        w.writerows(rows)
    before = {p: p.read_bytes() for p in (data / "test_input").iterdir()}
    res = invoke(runner, "predict", "--data", data, "--out", tmp_path / "pred", "--weights", trained_run / "model.safetensors")
    assert res.exit_code == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 3
    assert any(f"{rows[0]['ID']}.png" in ln and "not a readable image" in ln for ln in lines)
    assert any("ghost.png" in ln and "file not found" in ln for ln in lines)
    assert any("outside.png" in ln and "escapes" in ln for ln in lines)
    written = sorted(p.name for p in (tmp_path / "pred").iterdir())
    assert written == sorted(f"{r['ID']}.png" for r in rows[1:-2])
    assert {p: p.read_bytes() for p in (data / "test_input").iterdir()} == before


def test_predict_never_overwrites_inputs(tmp_path: Path, dataset: Path, trained_run: Path, runner) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    # inputs are test_input/<ID>.png: predicting into that folder would write onto them
    before = {p: p.read_bytes() for p in (data / "test_input").iterdir()}
    res = invoke(runner, "predict", "--data", data, "--out", data / "test_input", "--weights", trained_run / "model.safetensors")
    assert res.exit_code == 2 and "would overwrite" in res.stderr
    assert {p: p.read_bytes() for p in (data / "test_input").iterdir()} == before


def test_examples_then_restore(tmp_path: Path, runner) -> None:
    """The README's main job: write the bundled example photos, restore them with the default weights."""
    res = invoke(runner, "examples", "--out", tmp_path / "ex")
    assert res.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "ex").iterdir())
    assert "astronaut.png" in names and all(Image.open(tmp_path / "ex" / n).mode == "L" for n in names)


def test_missing_dataset_is_a_clear_error(tmp_path: Path, runner) -> None:
    res = invoke(runner, "predict", "--data", tmp_path / "nope", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "test.csv" in res.stderr and "file not found" in res.stderr
    res = invoke(runner, "evaluate", "--data", tmp_path / "nope", "--pred", tmp_path / "o")
    assert res.exit_code == 2 and "file not found" in res.stderr


def test_classify_on_onnxruntime_gives_the_torch_probabilities(tmp_path: Path, runner) -> None:
    """The shipped classifier on both backends: a damaged example and its clean original."""
    from skimage import data

    from restoria.data.damage import apply_damage

    gray = data.camera()
    damaged, _ = apply_damage(gray, np.random.default_rng(1))
    Image.fromarray(gray).save(tmp_path / "clean.png")
    Image.fromarray(damaged).save(tmp_path / "damaged.png")
    answers = {}
    for backend in ("torch", "onnx"):
        res = invoke(runner, "classify", tmp_path, "--backend", backend)
        assert res.exit_code == 0, res.stderr
        answers[backend] = {Path(a["path"]).name: a["p"] for a in map(json.loads, res.stdout.splitlines())}
    assert answers["onnx"] == pytest.approx(answers["torch"], abs=1e-4)
    assert answers["torch"]["damaged.png"] > 0.5 > answers["torch"]["clean.png"], answers


def test_classify_calls_photos_with_real_damage_damaged(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    """Cracks and a torn edge from the ageing model, which the polygon classifier never saw: the
    real-damage segmenter finds them, so `classify` calls those photos damaged and their clean originals
    clean; with `--real-segmenter none` the answer is the classifier's alone."""
    import cv2

    from restoria.data.ageing import AgeingConfig, age_photo
    from restoria.inference.flat import REAL_DAMAGE_SHARE

    for name in ("chelsea", "coffee"):
        rgb = cv2.resize(photos[name], (512, 512), interpolation=cv2.INTER_AREA)
        Image.fromarray(rgb).save(tmp_path / f"{name}-clean.png")
        for kind, seed in (("crack", 1), ("tear", 2)):
            aged = age_photo(rgb, np.random.default_rng(seed), AgeingConfig(damage={kind: 1.0}, min_damages=1, max_damages=1, ageing={}))
            Image.fromarray(aged.image).save(tmp_path / f"{name}-{kind}.png")
    answers = {}
    for real in ("default", "none"):
        res = invoke(runner, "classify", tmp_path, "--real-segmenter", real)
        assert res.exit_code == 0, res.stderr
        answers[real] = {Path(a["path"]).stem: a for a in map(json.loads, res.stdout.splitlines())}
    for stem, a in answers["default"].items():
        if stem.endswith("clean"):
            assert not a["damaged"] and a["real_damage"] < REAL_DAMAGE_SHARE, (stem, a)
        else:
            assert a["damaged"] and a["real_damage"] >= REAL_DAMAGE_SHARE, (stem, a)
    for stem, a in answers["none"].items():
        assert a["real_damage"] == 0 and a["damaged"] == (a["p"] >= 0.5) and a["p"] == answers["default"][stem]["p"], (stem, a)


def test_restore_damage_views_choose_how_the_real_damage_map_is_averaged(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    """A cracked photo is found with one view and with the default eight (which mark different pixels);
    a number of views that is not 1, 2, 4 or 8 is one line and exit code 2."""
    import cv2

    from restoria.data.ageing import AgeingConfig, age_photo

    rgb = cv2.resize(photos["chelsea"], (512, 512), interpolation=cv2.INTER_AREA)
    aged = age_photo(rgb, np.random.default_rng(1), AgeingConfig(damage={"crack": 1.0}, min_damages=1, max_damages=1, ageing={}))
    Image.fromarray(aged.image).save(tmp_path / "cracked.png")
    masks = {}
    for views in ("1", None):
        out = tmp_path / f"out{views}"
        res = invoke(runner, "restore", tmp_path / "cracked.png", "--out", out, "--save-stages", *(["--damage-views", views] if views else []))
        assert res.exit_code == 0, res.output
        masks[views] = np.asarray(Image.open(out / "cracked.mask.png")) > 0
    assert all(m.mean() > 0.002 for m in masks.values()) and (masks["1"] != masks[None]).any()
    res = invoke(runner, "restore", tmp_path / "cracked.png", "--out", tmp_path / "bad", "--damage-views", "3")
    assert res.exit_code == 2 and "views must be one of (1, 2, 4, 8), got 3" in res.output
