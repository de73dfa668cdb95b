"""`restoria restore` on photos of every kind, with the shipped default weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import invoke
from PIL import Image


def test_restore_any_kind_of_photo(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    src = tmp_path / "in"
    src.mkdir()
    cam = photos["coffee"]
    Image.fromarray(cam).convert("L").save(src / "gray.png")
    Image.fromarray(photos["astronaut"]).save(src / "rgb.jpg")
    Image.fromarray(np.dstack([photos["chelsea"], np.full(photos["chelsea"].shape[:2], 200, np.uint8)])).save(src / "rgba.png")
    Image.fromarray(cam[..., 0].astype(np.uint16) * 257).save(src / "deep16.png")
    Image.fromarray(photos["rocket"][:301, :203]).save(src / "odd.png")
    before = {p: p.read_bytes() for p in src.iterdir()}
    res = invoke(runner, "restore", src, "--out", tmp_path / "out", "--save-stages")
    assert res.exit_code == 0, res.output
    assert "rgb.jpg: a photo in colour: its colours kept" in res.stderr
    for f in src.iterdir():
        w, h = Image.open(f).size
        out = Image.open(tmp_path / "out" / f"{f.stem}.png")
        assert out.mode == "RGB" and out.size == (w, h)
        for stage, mode in ((".mask", "L"), (".inpainted", "L"), (".colorized", "RGB")):
            im = Image.open(tmp_path / "out" / f"{f.stem}{stage}.png")
            assert im.mode == mode and im.size == (w, h)
    restored = np.asarray(Image.open(tmp_path / "out" / "gray.png")).astype(int)
    chroma = np.abs(restored - restored.mean(-1, keepdims=True)).mean()
    assert chroma > 1.0  # the gray photo came back in colour
    assert {p: p.read_bytes() for p in src.iterdir()} == before


def test_hand_made_mask_is_used(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    gray = np.asarray(Image.fromarray(photos["astronaut"]).convert("L"))
    damaged = gray.copy()
    mask = np.zeros_like(gray)
    mask[200:260, 300:380] = 255
    damaged[mask > 0] = 30
    Image.fromarray(damaged).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    res = invoke(runner, "restore", tmp_path / "photo.png", "--mask", tmp_path / "mask.png", "--out", tmp_path / "out", "--save-stages")
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / "photo.mask.png")), mask)
    inpainted = np.asarray(Image.open(tmp_path / "out" / "photo.inpainted.png")).astype(int)
    enhanced = np.asarray(Image.open(tmp_path / "out" / "photo.enhanced.png")).astype(int)
    assert np.abs(enhanced - damaged).max() <= 3  # the enhance stage moves levels by a few at most here
    np.testing.assert_array_equal(inpainted[mask == 0], enhanced[mask == 0])  # the fill: nothing outside
    assert np.abs(inpainted[mask > 0] - 30).mean() > 10  # inside: filled, not the damage value
    # the luma of the final colour photo is the restored gray (chroma-only colorization)
    rgb = np.asarray(Image.open(tmp_path / "out" / "photo.png").convert("L")).astype(int)
    assert np.abs(rgb - inpainted).mean() < 2.0


def test_keep_color_keeps_the_photo_outside_the_damage(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    rgb = photos["chelsea"].copy()
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[100:160, 200:300] = 255
    rgb[mask > 0] = 90
    Image.fromarray(rgb).save(tmp_path / "cat.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    for flags in ([], ["--keep-color"]):  # kept by default (the photo is in colour) and when asked
        res = invoke(runner, "restore", tmp_path / "cat.png", "--mask", tmp_path / "mask.png", *flags, "--out", tmp_path / "out")
        assert res.exit_code == 0, res.output
        assert "colours kept" in res.stderr
        out = np.asarray(Image.open(tmp_path / "out" / "cat.png"))
        np.testing.assert_array_equal(out[mask == 0], rgb[mask == 0])
        assert np.abs(out[mask > 0].astype(int) - 90).mean() > 5  # the damage itself was restored
        inside = out[mask > 0].astype(int)
        assert (inside.max(1) - inside.min(1)).mean() > 5  # ... in the photo's colours, not in gray


def test_color_colorize_recolours_a_colour_photo_and_bad_values_are_refused(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    Image.fromarray(photos["coffee"]).save(tmp_path / "cup.png")
    res = invoke(runner, "restore", tmp_path / "cup.png", "--color", "colorize", "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert "converted to gray" in res.stderr
    out = np.asarray(Image.open(tmp_path / "out" / "cup.png")).astype(int)
    assert np.abs(out - photos["coffee"]).mean() > 5  # new colours
    res = invoke(runner, "restore", tmp_path / "cup.png", "--color", "sepia", "--out", tmp_path / "out2")
    assert res.exit_code == 2 and "--color" in res.stderr


def test_bad_inputs_do_not_stop_the_batch(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    Image.fromarray(photos["coffee"]).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_text("text, not a PNG")
    res = invoke(runner, "restore", tmp_path / "bad.png", tmp_path / "good.png", tmp_path / "nothere.png", "--out", tmp_path / "out")
    assert res.exit_code == 2
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 2 and "bad.png" in errors[0] and "nothere.png" in errors[1]
    assert (tmp_path / "out" / "good.png").exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.png"]


def test_output_onto_input_is_refused(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    Image.fromarray(photos["coffee"]).save(tmp_path / "p.png")
    before = (tmp_path / "p.png").read_bytes()
    res = invoke(runner, "restore", tmp_path / "p.png", "--out", tmp_path)
    assert res.exit_code == 2 and "would overwrite" in res.stderr
    assert (tmp_path / "p.png").read_bytes() == before
