"""`restoria group`: clusters of the same place, folds that never split one, outliers, the CSVs, CLIP offline."""

from __future__ import annotations

import csv
import json
import socket
from pathlib import Path

import numpy as np
import skimage.data
import pytest
import yaml
from conftest import invoke

from restoria.grouping.cluster import COLUMNS, GroupRow, connected_groups, group_folds, read_group_csv, write_group_csv
from restoria.grouping.report import GROUP_DEFAULTS, load_group_config
from restoria.io import InputError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def layout_sources(data: Path) -> dict[str, str]:
    return {r["ID"]: Path(r["source"]).stem for s in ("train", "val", "test") for r in csv_rows(data / f"{s}.csv")}


def test_group_command_writes_the_csvs_and_plots(grouped: Path, dataset: Path) -> None:
    train, test = csv_rows(grouped / "train_preproc.csv"), csv_rows(grouped / "test_preproc.csv")
    assert list(train[0]) == list(test[0]) == COLUMNS
    ids = {s: [r["ID"] for r in csv_rows(dataset / f"{s}.csv")] for s in ("train", "val", "test")}
    assert [r["ID"] for r in train] == ids["train"] + ids["val"]  # train includes val rows
    assert [r["ID"] for r in test] == ids["test"]
    assert {r["fold"] for r in train} == {"0", "1"} and {r["fold"] for r in test} == {"-1"}
    for r in train + test:
        assert r["is_outlier"] == str(int(r["cluster"] == "-1"))
        assert np.isfinite([float(r["umap_x"]), float(r["umap_y"])]).all()
    for name in ("umap.png", "clusters.png"):
        assert (grouped / name).stat().st_size > 10_000


def test_crops_of_one_photo_cluster_together(grouped: Path, dataset: Path) -> None:
    source = layout_sources(dataset)
    rows = read_group_csv(grouped / "train_preproc.csv") + read_group_csv(grouped / "test_preproc.csv")
    by_source: dict[str, list[int]] = {}
    for r in rows:
        by_source.setdefault(source[r.id], []).append(r.cluster)
    together = [c[0] == c[1] >= 0 for c in by_source.values()]
    assert sum(together) >= len(together) / 2, by_source  # a random embedding would rarely pair crops


def test_folds_never_split_a_cluster_or_a_photo(grouped: Path, dataset: Path) -> None:
    source = layout_sources(dataset)
    folds_of: dict[str, set[int]] = {}
    for r in read_group_csv(grouped / "train_preproc.csv"):
        if r.cluster >= 0:
            folds_of.setdefault(f"cluster {r.cluster}", set()).add(r.fold)
        folds_of.setdefault(source[r.id], set()).add(r.fold)
    assert all(len(f) == 1 for f in folds_of.values()), folds_of


def test_group_k_fold_never_leaks_a_group() -> None:
    photo = np.repeat(np.arange(40), 3)  # 40 photos, 3 crops each
    clusters = photo // 4  # 10 places of 4 photos
    clusters[[2, 5]] = 1  # photos 0 and 1 have a crop that clustered with the next place
    clusters[[8, 30, 31, 100]] = -1  # outliers
    sources = [f"photo{p}" for p in photo]
    for srcs in (None, sources):
        folds = group_folds(clusters, 4, "group", srcs)
        assert set(folds.tolist()) == {0, 1, 2, 3}
        groups = connected_groups(clusters, srcs)
        for g in np.unique(groups):
            assert len(set(folds[groups == g].tolist())) == 1
        for c in range(10):
            assert len(set(folds[clusters == c].tolist())) == 1
    assert len({int(f) for f in folds[photo == 0]}) == 1  # with sources, a photo split over two clusters stays whole
    assert len({int(f) for f in folds[photo == 10]}) == 1  # and so does one with an outlier crop


def test_outliers_are_their_own_groups_or_dropped() -> None:
    clusters = np.array([0, 0, 1, 1, 2, 2, -1, -1, -1, -1])
    kept = group_folds(clusters, 3, "group")
    assert (kept >= 0).all()
    assert len(np.unique(connected_groups(clusters))) == 3 + 4  # each outlier alone
    dropped = group_folds(clusters, 3, "drop")
    assert (dropped[clusters < 0] == -1).all() and (dropped[clusters >= 0] >= 0).all()
    with pytest.raises(ValueError, match="cannot make 4 folds"):
        group_folds(clusters, 4, "drop")


def test_drop_outliers_flag_and_reused_embeddings(tmp_path: Path, grouped: Path, dataset: Path, runner) -> None:
    out = tmp_path / "g"
    out.mkdir()
    (out / "embeddings.npz").write_bytes((grouped / "embeddings.npz").read_bytes())
    res = invoke(runner, "group", dataset, "--out", out, "--folds", 2, "--drop-outliers")
    assert res.exit_code == 0, res.output
    assert "embeddings reused" in res.stderr
    rows = read_group_csv(out / "train_preproc.csv")
    outliers = [r for r in rows if r.is_outlier]
    assert outliers, "the real-photo dataset has crops HDBSCAN leaves as noise"
    assert all(r.fold == -1 for r in outliers) and all(r.fold >= 0 for r in rows if not r.is_outlier)
    assert [r.cluster for r in rows] == [r.cluster for r in read_group_csv(grouped / "train_preproc.csv")]
    res = invoke(runner, "group", dataset, "--out", out, "--folds", 2, "--drop-outliers", "--min-cluster-size", 4)
    assert res.exit_code == 2 and "cannot make 2 folds" in res.stderr  # too few clusters left: a clear error


def test_csv_round_trip(tmp_path: Path) -> None:
    rows = [GroupRow("TRAIN_00000", 3, False, 1, 0.5, -2.25), GroupRow("TRAIN_00001", -1, True, -1, 1.12345, 7.0)]
    write_group_csv(tmp_path / "g.csv", rows)
    assert read_group_csv(tmp_path / "g.csv") == rows
    (tmp_path / "bad.csv").write_text("ID,cluster\nA,1\n")
    with pytest.raises(InputError, match="missing column"):
        read_group_csv(tmp_path / "bad.csv")


def test_config_file_is_the_defaults(tmp_path: Path) -> None:
    assert yaml.safe_load((CONFIGS / "group.yaml").read_text()) == GROUP_DEFAULTS
    (tmp_path / "typo.yaml").write_text("hdbscn: {min_cluster_size: 3}\n")
    with pytest.raises(InputError, match="unknown key"):
        load_group_config(tmp_path / "typo.yaml")
    assert load_group_config(None, {"hdbscan": {"min_cluster_size": 4}})["hdbscan"]["min_samples"] == 1


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to open a connection is recorded and refused."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_clip_without_weights_fails_fast_offline(tmp_path: Path, dataset: Path, runner, no_network, monkeypatch) -> None:
    res = invoke(runner, "group", dataset, "--out", tmp_path / "a", "--embedder", "clip", "--weights", tmp_path / "missing.pt")
    assert res.exit_code == 2
    assert "missing.pt not found" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    pytest.importorskip("open_clip")
    import huggingface_hub.constants

    monkeypatch.setenv("HOME", str(tmp_path))  # an empty ~/.cache/clip
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    res = invoke(runner, "group", dataset, "--out", tmp_path / "b", "--embedder", "clip")
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1 and "not on disk" in line
    assert "--weights FILE" in line and "create_model_and_transforms" in line  # says how to get them
    assert no_network == []
    assert not (tmp_path / "b" / "train_preproc.csv").exists()


def test_clip_embeds_with_weights_on_disk(tmp_path: Path, dataset: Path, runner, no_network) -> None:
    """The CLIP path end to end with a small open_clip model whose (random) weights are a local file."""
    open_clip = pytest.importorskip("open_clip")
    import torch

    spec = {"embed_dim": 16, "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
            "text_cfg": {"context_length": 8, "vocab_size": 49408, "width": 16, "heads": 1, "layers": 1}}
    (tmp_path / "restoria-test-clip.json").write_text(json.dumps(spec))
    open_clip.add_model_config(tmp_path / "restoria-test-clip.json")
    torch.manual_seed(0)
    torch.save(open_clip.create_model("restoria-test-clip").state_dict(), tmp_path / "clip.pt")
    (tmp_path / "g.yaml").write_text(yaml.safe_dump({"clip": {"model": "restoria-test-clip"}, "folds": {"k": 2}}))
    res = invoke(runner, "group", dataset, "--out", tmp_path / "g", "--config", tmp_path / "g.yaml", "--embedder", "clip",
                 "--weights", tmp_path / "clip.pt")
    assert res.exit_code == 0, res.output
    x = np.load(tmp_path / "g" / "embeddings.npz")["x"]
    assert x.shape[1] == 16 and np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    written = read_group_csv(tmp_path / "g" / "train_preproc.csv") + read_group_csv(tmp_path / "g" / "test_preproc.csv")
    assert len(written) == len(x)
    assert no_network == []


def test_any_image_folder_and_a_bad_file(tmp_path: Path, photo_dir: Path, runner) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in photo_dir.iterdir():
        (photos / p.name).write_bytes(p.read_bytes())
    (photos / "broken.png").write_bytes(b"not a png")
    res = invoke(runner, "group", photos, "--out", tmp_path / "g", "--folds", 2)
    assert res.exit_code == 2
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "broken.png" in errors[0]
    rows = read_group_csv(tmp_path / "g" / "train_preproc.csv")
    assert sorted(r.id for r in rows) == sorted(p.name for p in photo_dir.iterdir())  # every readable photo
    assert read_group_csv(tmp_path / "g" / "test_preproc.csv") == []
    (photos / "broken.png").unlink()
    (photos / "chelsea.jpg").write_bytes((photo_dir / "astronaut.png").read_bytes())  # a changed file: embedded anew
    res = invoke(runner, "group", photos, "--out", tmp_path / "g", "--folds", 2)
    assert res.exit_code == 0, res.output
    assert "embeddings reused" not in res.stderr


def test_imagenet_embedder_puts_crops_of_one_photo_together(tmp_path: Path) -> None:
    """The semantic embedder that needs no download: two crops of the cat are nearer each other than
    either is to a crop of the coffee cup."""
    from restoria.grouping.embed import make_embedder
    from restoria.grouping.report import GROUP_DEFAULTS
    from restoria.io import write_png

    cat, coffee = skimage.data.chelsea(), skimage.data.coffee()
    paths = []
    for name, img in (("cat_a", cat[:, :300]), ("cat_b", cat[:, -300:]), ("coffee", coffee[:, 100:400])):
        paths.append(tmp_path / f"{name}.png")
        write_png(paths[-1], img)
    x, errors = make_embedder({**GROUP_DEFAULTS, "embedder": "imagenet"}).embed(paths)
    assert not errors and x.shape == (3, 1280)
    assert np.allclose(np.linalg.norm(x, axis=1), 1)
    assert x[0] @ x[1] > max(x[0] @ x[2], x[1] @ x[2])
