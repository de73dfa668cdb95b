"""The ageing model: structural damage lands only inside its mask, global ageing does what its name
says, everything is seeded, and the datasets and `prepare` take it through `damage: {model: ageing}`."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restoria.data.ageing import GLOBAL, LOOKALIKES, STRUCTURAL, AgeingConfig, age_photo, damage_model
from restoria.data.damage import DamageConfig
from restoria.imaging import to_gray


def one_kind(kind: str, **kw: object) -> AgeingConfig:
    if kind in STRUCTURAL:
        return AgeingConfig(damage={kind: 1.0}, min_damages=1, max_damages=1, ageing={}, **kw)
    return AgeingConfig(damage={}, ageing={kind: 1.0}, **kw)


@pytest.mark.parametrize("kind", STRUCTURAL)
def test_structural_damage_changes_only_its_mask(photos: dict[str, np.ndarray], kind: str) -> None:
    rgb = photos["astronaut"]
    for seed in range(3):
        aged = age_photo(rgb, np.random.default_rng(seed), one_kind(kind))
        mask = aged.mask > 0
        changed = np.abs(aged.image.astype(int) - rgb).max(-1) > 0
        assert mask.any() and set(np.unique(aged.mask)) <= {0, 255}
        assert not (changed & ~mask).any(), f"{kind} changed pixels outside its mask"
        assert changed[mask].mean() > 0.3, f"{kind}'s mask is mostly invisible"
        assert list(aged.kinds) == [kind] and (aged.kinds[kind] == mask).all()


def test_thin_damage_is_thin_and_large_damage_is_large(photos: dict[str, np.ndarray]) -> None:
    """Scratches, cracks and hairs are a few pixels wide; tears are big: what the segmenter must find."""
    rgb = photos["coffee"]

    def mean_width(kind: str) -> float:
        widths = []
        for seed in range(6):
            m = age_photo(rgb, np.random.default_rng(seed), one_kind(kind)).mask > 0
            dist = cv2.distanceTransform(m.astype(np.uint8), cv2.DIST_L2, 3)
            widths.append(2 * dist[m].mean())
        return float(np.mean(widths))

    for kind in ("scratch", "crack", "hair"):
        assert mean_width(kind) < 4, kind
    assert mean_width("tear") > 15


def test_damage_looks_as_scans_show_it() -> None:
    """On a flat mid-gray print: bare paper is never one flat value (emulsion loss and white tears carry
    the paper's grain); some cracks have a darker rim around their bright line and some creases are a
    bright and a dark line side by side; tears chip the print's edges besides taking a corner."""
    gray = np.full((256, 256), 128, np.uint8)
    grain, rims, ridges, chips = [], 0, 0, 0
    for seed in range(20):
        rng = lambda: np.random.default_rng(seed)  # noqa: E731
        emulsion = age_photo(gray, rng(), one_kind("emulsion", reference_size=256))
        grain.append(emulsion.image[emulsion.mask > 0].std())
        for kind in ("crack", "fold"):
            aged = age_photo(gray, rng(), one_kind(kind, reference_size=256))
            inside = aged.image[aged.mask > 0].astype(int)
            both = (inside > 160).any() and (inside < 110).any()
            rims += both and kind == "crack"
            ridges += both and kind == "fold"
        tear = age_photo(gray, rng(), one_kind("tear", reference_size=256)).mask > 0
        count = cv2.connectedComponents(tear.astype(np.uint8))[0] - 1
        chips += count > 3
    assert np.median(grain) > 2, grain
    assert rims >= 3 and ridges >= 3 and chips >= 3, (rims, ridges, chips)


def test_ageing_is_seeded(photos: dict[str, np.ndarray]) -> None:
    a = age_photo(photos["chelsea"], np.random.default_rng(7))
    b = age_photo(photos["chelsea"], np.random.default_rng(7))
    c = age_photo(photos["chelsea"], np.random.default_rng(8))
    assert (a.image == b.image).all() and (a.mask == b.mask).all() and a.applied == b.applied
    assert (a.image != c.image).any()


def _contrast(img: np.ndarray) -> float:
    lo, hi = np.percentile(to_gray(img), [1, 99])
    return float(hi - lo)


def _detail(img: np.ndarray) -> float:
    return float(cv2.Laplacian(to_gray(img).astype(np.float32), cv2.CV_32F).var())


def test_global_ageing_does_what_it_says(photos: dict[str, np.ndarray]) -> None:
    rgb = photos["astronaut"]
    out = {k: age_photo(rgb, np.random.default_rng(1), one_kind(k)) for k in GLOBAL}
    for k, aged in out.items():
        assert not aged.mask.any() and aged.applied == [k] and (aged.image != rgb).any()
    assert _contrast(out["fade"].image) < 0.85 * _contrast(rgb)
    r, g, b = out["yellow"].image.reshape(-1, 3).mean(0)
    assert b < 0.9 * r and b < g
    noise = to_gray(out["grain"].image).astype(float) - to_gray(rgb)
    assert noise.std() > 3 and abs(noise.mean()) < 1  # zero-mean noise
    assert _detail(out["blur"].image) < 0.7 * _detail(rgb)
    jpeg = out["jpeg"].image.astype(float)
    steps = np.abs(np.diff(jpeg.mean(-1), axis=1))  # JPEG's 8 px blocks: jumps across block borders
    assert steps[:, 7::8].mean() > 1.1 * steps[:, 3::8].mean()


def test_lookalikes_change_the_picture_but_never_the_mask(photos: dict[str, np.ndarray]) -> None:
    """A vignette darkens or whitens the border and leaves the centre; a highlight brightens a soft
    region and a shadow darkens one, each keeping the picture's structure inside; none is damage, and off (the default) they leave a seed's ageing as it was."""
    rgb = photos["astronaut"]
    for kind in LOOKALIKES:
        for seed in range(3):
            aged = age_photo(rgb, np.random.default_rng(seed), AgeingConfig(damage={}, ageing={}, lookalikes={kind: 1.0}))
            assert not aged.mask.any() and aged.applied == [kind]
            change = np.abs(to_gray(aged.image).astype(int) - to_gray(rgb))
            assert (change > 30).mean() > 0.005, kind
            if kind == "vignette":
                h, w = change.shape
                assert change[h // 2 - 20 : h // 2 + 20, w // 2 - 20 : w // 2 + 20].max() == 0
                assert change[:8].mean() > 10 * max(change[h // 2 - 20 : h // 2 + 20, w // 2 - 20 : w // 2 + 20].mean(), 0.1)
            elif kind == "highlight":
                dark = to_gray(rgb) < 230
                assert (to_gray(aged.image).astype(int) >= to_gray(rgb).astype(int) - 1)[dark].all()  # toward white
            else:
                before, after = to_gray(rgb).astype(float), to_gray(aged.image).astype(float)
                bright = before > 45
                assert (after <= before + 1)[bright].all()  # toward black
                region = (change > 30) & bright
                assert np.corrcoef(before[region], after[region])[0, 1] > 0.3, seed  # its folds and shading kept
    cfg = AgeingConfig()
    plain = age_photo(rgb, np.random.default_rng(5), cfg)
    off = age_photo(rgb, np.random.default_rng(5), AgeingConfig(lookalikes={"vignette": 0.0}))
    assert (plain.image == off.image).all() and plain.applied == off.applied
    with pytest.raises(ValueError, match="look-alikes: vignette"):
        AgeingConfig.from_dict({"lookalikes": {"frame": 1.0}})


def test_min_global_forces_some_ageing(photos: dict[str, np.ndarray]) -> None:
    cfg = AgeingConfig(damage={}, ageing={"grain": 0.01, "blur": 0.01}, min_global=1)
    for seed in range(10):
        aged = age_photo(to_gray(photos["rocket"]), np.random.default_rng(seed), cfg)
        assert len(aged.applied) >= 1 and aged.image.ndim == 2  # gray in, gray out


def test_damage_model_from_config() -> None:
    assert isinstance(damage_model(None), DamageConfig)
    assert isinstance(damage_model({"model": "ageing", "max_damages": 2}), AgeingConfig)
    with pytest.raises(ValueError, match="smudge"):
        damage_model({"model": "ageing", "damage": {"smudge": 1.0}})
    with pytest.raises(ValueError, match="competition or ageing"):
        damage_model({"model": "old"})


def test_damage_gray_matches_the_mask(photos: dict[str, np.ndarray]) -> None:
    """Both damage models give (damaged gray, 0/255 mask) from a colour photo, as every dataset reads them."""
    rgb = photos["coffee"]
    for model in (DamageConfig(), AgeingConfig(min_damages=1)):
        gray, mask = model.damage_gray(rgb, np.random.default_rng(3))
        assert gray.shape == mask.shape == rgb.shape[:2] and gray.dtype == np.uint8
        assert set(np.unique(mask)) == {0, 255}
