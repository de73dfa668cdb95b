"""The restore pipeline: tiling (bounded memory, same result away from seams), its learned damage
detectors (the segmenter's mask is the one used; the classifier decides whether to inpaint at all),
ensembles and flip test-time augmentation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL, detector_weights, invoke
from PIL import Image

from restoria.data.damage import apply_damage
from restoria.fill import classical_fill_image
from restoria.imaging import to_gray
from restoria.inference.restorer import Restorer
from restoria.inference.tiling import flip_tta, run_tiled
from restoria.models import create_model
from restoria.weights import save_weights


def test_tiling_of_a_pointwise_function_is_exact() -> None:
    x = torch.rand(1, 1, 300, 450)
    out = run_tiled(lambda t: t * 2 + 1, x, tile=128, overlap=32)
    torch.testing.assert_close(out, x * 2 + 1)


def test_tiled_and_untiled_restore_agree(photos: dict[str, np.ndarray]) -> None:
    gray = to_gray(photos["coffee"])  # 400 x 600
    whole = Restorer(tile=None)(gray)
    tiled = Restorer(tile=256)(gray)
    assert tiled.restored.shape == whole.restored.shape == (*gray.shape, 3)
    a = whole.colorized.astype(float)
    b = tiled.colorized.astype(float)
    # receptive fields differ near tile borders; the photos agree closely overall
    assert np.abs(a - b).mean() < 6.0


def test_the_segmenter_finds_the_damage(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    gray = to_gray(photos["coffee"])[:160, :224]
    everywhere = Restorer(segmenter=detector_weights(tmp_path, "segment", 10.0), classifier=None, detector="model")(gray)
    assert (everywhere.mask == 255).all()
    nowhere = Restorer(segmenter=detector_weights(tmp_path, "segment", -10.0), classifier=None, detector="model")(gray)
    assert (nowhere.mask == 0).all()
    np.testing.assert_array_equal(nowhere.inpainted, gray)  # nothing found: the photo's gray kept as it is


def test_the_classifier_gates_inpainting(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    gray = to_gray(photos["coffee"])[:160, :224]
    seg = detector_weights(tmp_path, "segment", 10.0)
    clean = Restorer(segmenter=seg, classifier=detector_weights(tmp_path, "classify", -10.0), detector="model")(gray)
    assert clean.p_damaged is not None and clean.p_damaged < 0.01
    assert (clean.mask == 0).all()
    np.testing.assert_array_equal(clean.inpainted, gray)
    damaged = Restorer(segmenter=seg, classifier=detector_weights(tmp_path, "classify", 10.0), detector="model")(gray)
    assert damaged.p_damaged > 0.99 and (damaged.mask == 255).all()


def test_a_real_damage_segmenter_is_not_gated_by_the_polygon_classifier(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    """The classifier knows the competition's flat polygons only. When it says clean, a segmenter
    trained on real damage still reports the regions it finds that are not flat fills (a scratch is
    not flat); one that knows polygons only is gated as before."""
    gray = to_gray(photos["coffee"])[:160, :224]
    says_clean = detector_weights(tmp_path, "classify", -10.0)
    real = Restorer(segmenter=detector_weights(tmp_path, "segment", 10.0, real_damage=True), classifier=says_clean)
    assert real.segmenter.real_damage and real.segmenter.min_area_at_reference < 300
    assert (real(gray).mask == 255).all()  # everything this segmenter calls damage
    flat = np.full_like(gray, 140)
    assert (real(flat).mask == 0).all()  # a flat region is the classifier's kind: gated
    polygon_only = Restorer(segmenter=detector_weights(tmp_path, "segment", 10.0), classifier=says_clean)
    assert not polygon_only.segmenter.real_damage and (polygon_only(gray).mask == 0).all()


def test_a_real_damage_segmenter_beside_the_competitions_adds_what_it_finds(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    """`real_segmenter` runs beside `segmenter` and their masks are united: what either finds is
    filled. The classifier's gate silences the competition's segmenter, never the real-damage one."""
    gray = to_gray(photos["coffee"])[:160, :224]
    nowhere, everywhere = detector_weights(tmp_path, "segment", -10.0), detector_weights(tmp_path, "segment", 10.0)
    real_everywhere = detector_weights(tmp_path, "segment", 10.0, real_damage=True)
    real_nowhere = detector_weights(tmp_path, "segment", -10.0, real_damage=True)
    both = Restorer(segmenter=nowhere, real_segmenter=real_everywhere, classifier=None)
    assert [s.real_damage for s in both.segmenters] == [False, True]
    assert (both.detect(gray)[0] == 255).all()
    assert (Restorer(segmenter=everywhere, real_segmenter=real_nowhere, classifier=None).detect(gray)[0] == 255).all()
    assert (Restorer(segmenter=nowhere, real_segmenter=None, classifier=None).detect(gray)[0] == 0).all()
    says_clean = detector_weights(tmp_path, "classify", -10.0)
    assert (Restorer(segmenter=everywhere, real_segmenter=real_nowhere, classifier=says_clean).detect(gray)[0] == 0).all()
    assert (Restorer(segmenter=everywhere, real_segmenter=real_everywhere, classifier=says_clean).detect(gray)[0] == 255).all()


def test_classify_command(tmp_path: Path, photos: dict[str, np.ndarray], runner) -> None:
    Image.fromarray(photos["coffee"]).save(tmp_path / "a.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    weights = detector_weights(tmp_path, "classify", 10.0)
    res = invoke(runner, "classify", tmp_path / "a.png", tmp_path / "broken.png", "--weights", weights, "--real-segmenter", "none")
    assert res.exit_code == 2
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert lines == [{"path": str(tmp_path / "a.png"), "damaged": True, "p": round(1 / (1 + np.exp(-10.0)), 6), "real_damage": 0.0}]
    assert "broken.png" in res.stderr


def test_an_ensemble_of_one_model_twice_is_that_model(trained_run: Path, photos: dict[str, np.ndarray]) -> None:
    w = trained_run / "model.safetensors"
    gray = to_gray(photos["astronaut"])[::2, ::2]
    one = Restorer([w], segmenter=None, classifier=None)(gray)
    two = Restorer([w, w], segmenter=None, classifier=None)(gray)
    for stage in ("mask", "inpainted", "colorized", "restored"):
        np.testing.assert_array_equal(getattr(two, stage), getattr(one, stage))


def test_an_ensemble_of_two_models_averages_them(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    """Two different networks: each stage of the ensemble is the mean of the two models' outputs, and
    differs from either one (so both are used, and neither is dropped or counted twice)."""
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        net = create_model(**TINY_MODEL)
        paths.append(tmp_path / f"seed{seed}.safetensors")
        save_weights(net, paths[-1], TINY_MODEL)
    gray = to_gray(photos["chelsea"])
    a, b = (Restorer([p], segmenter=None, classifier=None) for p in paths)
    both = Restorer(paths, segmenter=None, classifier=None)
    outs = [r.unet(gray) for r in (a, b, both)]
    for one, two, mean in zip(*outs):  # U-Net #1's damage and fill
        torch.testing.assert_close(mean, (one + two) / 2)
        assert not torch.allclose(one, two)  # the two models really differ here
        assert not torch.allclose(mean, one) and not torch.allclose(mean, two)
    one, two, mean = (r.colorize(gray).astype(float) for r in (a, b, both))
    assert np.abs(one - two).mean() > 1  # the colorizers differ; the ensemble's colour lies between them
    assert np.abs(mean - one).mean() < np.abs(two - one).mean() and np.abs(mean - two).mean() < np.abs(two - one).mean()


def test_flip_tta_of_an_equivariant_function_changes_nothing() -> None:
    x = torch.rand(1, 1, 40, 56)
    symmetric = torch.tensor([[[[1.0, 2.0, 1.0], [0.5, -3.0, 0.5], [1.0, 0.0, 1.0]]]])  # mirror-symmetric kernel
    lopsided = torch.tensor([[[[1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]])
    equivariant = lambda t: torch.nn.functional.conv2d(t, symmetric, padding=1)  # noqa: E731
    other = lambda t: torch.nn.functional.conv2d(t, lopsided, padding=1)  # noqa: E731
    torch.testing.assert_close(flip_tta(equivariant)(x), equivariant(x))
    assert not torch.allclose(flip_tta(other)(x), other(x))


def test_flip_tta_of_a_flip_equivariant_model_equals_no_tta(trained_run: Path, photos: dict[str, np.ndarray]) -> None:
    """The trained networks made flip-equivariant (f and its mirror averaged): TTA must leave both stages as
    they are, while on the real networks it changes the output (so TTA is applied)."""
    w = trained_run / "model.safetensors"
    gray = to_gray(photos["chelsea"])
    plain, tta = Restorer([w], segmenter=None, classifier=None), Restorer([w], segmenter=None, classifier=None, tta=True)
    assert not torch.allclose(tta.unet(gray)[1], plain.unet(gray)[1])
    for r in (plain, tta):
        m = r.models[0]
        for name in ("fill_and_damage", "color"):
            setattr(m, name, flip_tta(getattr(m, name)))  # flip-equivariant by construction
    for a, b in zip(tta.unet(gray), plain.unet(gray)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert np.abs(tta.colorize(gray).astype(int) - plain.colorize(gray)).max() <= 1


def test_the_default_fill_of_the_damage_is_fsr_and_model_is_the_unets(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    """Without a refiner, `fill="auto"` is exactly opencv-contrib's FSR fill of the found damage (the
    rest of the gray untouched), and `fill="model"` is U-Net #1's own fill instead."""
    torch.manual_seed(0)
    weights = tmp_path / "tiny.safetensors"
    save_weights(create_model(**TINY_MODEL), weights, TINY_MODEL)
    gray = to_gray(photos["coffee"])[:192, :256]
    damaged, mask = apply_damage(gray, np.random.default_rng(2))
    auto = Restorer([weights], segmenter=None, classifier=None)(damaged, mask)
    np.testing.assert_array_equal(auto.inpainted, classical_fill_image(damaged, mask, "fsr"))
    model = Restorer([weights], segmenter=None, classifier=None, fill="model")(damaged, mask)
    hole = mask > 0
    np.testing.assert_array_equal(model.inpainted[~hole], damaged[~hole])
    assert (model.inpainted[hole] != auto.inpainted[hole]).mean() > 0.5


def test_a_toned_print_is_colorized_and_a_colour_photo_keeps_its_colours() -> None:
    """The shipped default: a sepia print of the astronaut comes out colorized from its gray (its
    colours differ from the print's tint), the colour original comes out exactly as it went in
    (no damage to fill), and forcing either way works."""
    from restoria.commands.examples import bundled_photos
    from restoria.data.damage import TONES, tone
    from restoria.imaging import to_gray
    from restoria.inference.restorer import Restorer

    rgb = bundled_photos()["astronaut"][::2, ::2].copy()
    sepia = tone(to_gray(rgb), *TONES["sepia"])
    restorer = Restorer(classifier=None, segmenter=None, detector="flat")
    kept = restorer(rgb)
    np.testing.assert_array_equal(kept.restored, rgb)
    assert any("colours kept" in n for n in kept.notes)
    coloured = restorer(sepia)
    assert any("toned" in n for n in coloured.notes)
    assert np.abs(coloured.restored.astype(int) - sepia).mean() > 5
    luma_error = np.abs(to_gray(coloured.restored).astype(int) - to_gray(sepia))  # the luma is the print's gray
    assert luma_error.mean() < 0.5 and np.mean(luma_error > 3) < 0.01  # (but where a colour leaves the gamut)
    np.testing.assert_array_equal(restorer(sepia, colour="keep").restored, sepia)
    assert np.abs(restorer(rgb, colour="colorize").restored.astype(int) - rgb).mean() > 3


def test_use_color_calibration_switches_and_switches_back(photos: dict[str, np.ndarray]) -> None:
    """A restorer switched to a colour calibration colours as one built with it; switched back, as before
    (the first networks were kept). Out of range, or over networks given in memory, it refuses."""
    import cv2

    gray = to_gray(cv2.resize(photos["coffee"], (256, 192), interpolation=cv2.INTER_AREA))
    off = {"enhancer": None, "real_segmenter": None}
    r = Restorer(**off)
    before = r.colorize(gray)
    r.use_color_calibration(1.0)
    np.testing.assert_array_equal(r.colorize(gray), Restorer(**off, color_calibration=1.0).colorize(gray))
    assert np.abs(r.colorize(gray).astype(int) - before).max() > 10
    r.use_color_calibration(None)
    np.testing.assert_array_equal(r.colorize(gray), before)
    with pytest.raises(ValueError, match="between 0 and 1"):
        r.use_color_calibration(1.5)
    with pytest.raises(ValueError, match="networks given in memory"):
        Restorer(nets=r.models, **off).use_color_calibration(1.0)
