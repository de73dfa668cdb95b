"""The shipped detector configs load, build their task and data module, and say what they claim."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from restoria.config import load_config
from restoria.models.classifier import frozen_module_names
from restoria.tasks.train import TASKS, build_task
from restoria.weights import load_state

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"


@pytest.mark.parametrize("name", ["segment_seed", "segment", "classify", "classify_seed"])
def test_config_builds(name: str, dataset: Path) -> None:
    cfg = load_config(CONFIGS / f"{name}.yaml")
    task_cls, data_cls = TASKS[cfg["task"]]
    model = dict(cfg["model"], encoder_weights=None)  # no download in tests
    task = task_cls(model=model, loss=cfg["loss"], optimizer=cfg["optimizer"])
    dm = data_cls(data=str(dataset), folds=None, fold=0, **cfg["data"])
    dm.setup()
    assert len(dm.train_set) and len(dm.val_set)
    assert cfg["monitor"] == {"segment": "val/iou", "classify": "val/acc"}[cfg["task"]]
    if name == "classify_seed":
        assert cfg["model"]["encoder_weights"] == "imagenet"
        assert task.net.frozen == frozen_module_names(task.net.backbone, ["conv1", "bn1", "layer1", "layer2", "layer3"])


def test_segment_seed_is_the_source_recipe() -> None:
    cfg = load_config(CONFIGS / "segment_seed.yaml")
    assert cfg["model"]["encoder"] == "mobilenet_v2" and cfg["loss"] == {"bce": 1.0}
    assert (cfg["optimizer"]["name"], cfg["optimizer"]["lr"]) == ("adam", 1e-5)
    data = cfg["data"]
    assert (data["size"], data["fit"], data["batch_size"], data["val_fraction"], data.get("flip", True)) == (224, "resize", 8, 0.3, True)
    assert cfg["trainer"]["max_epochs"] == 25


def test_task_defaults_fill_what_a_config_leaves_out(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("task: segment\n")
    cfg = load_config(tmp_path / "s.yaml")
    assert (cfg["monitor"], cfg["model"]["name"]) == ("val/iou", "unet")
    (tmp_path / "x.yaml").write_text("task: sgement\n")
    with pytest.raises(ValueError, match="unknown task"):
        load_config(tmp_path / "x.yaml")


@pytest.mark.parametrize("name", ["gan_digits", "wgan_gp_digits", "cgan_digits", "vae_digits", "ae_digits"])
def test_generative_configs_build_on_digits(name: str) -> None:
    cfg = load_config(CONFIGS / f"{name}.yaml")
    task_cls, data_cls = TASKS[cfg["task"]]
    task = task_cls(**{k: cfg[k] for k in ("model", "loss", "optimizer", "discriminator") if k in cfg})
    if not task.automatic_optimization:  # Lightning cannot clip gradients it does not step
        assert cfg["trainer"]["gradient_clip_val"] is None
        assert cfg["monitor"] == "val/kid"
    if cfg["task"] == "wgan_gp":
        assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in task.discriminator.modules())
        assert task.loss_cfg["n_critic"] == 5
    dm = data_cls(data="digits", folds=None, fold=0, **cfg["data"])
    dm.setup()
    assert dm.train_set[0]["image"].shape == (1, cfg["model"]["image_size"], cfg["model"]["image_size"])


@pytest.mark.parametrize("name", ["restore_adversarial", "cyclegan_gray2color"])
def test_adversarial_configs_build(name: str, dataset: Path) -> None:
    """The two adversarial recipes build their task as `restoria train` does (same keys passed) and
    their data module on a prepared dataset; what their comments promise holds."""
    cfg = load_config(CONFIGS / f"{name}.yaml")
    data_cls = TASKS[cfg["task"]][1]
    if "init" in cfg:  # relative to the repository root, where `restoria train` is run
        cfg["init"] = str(REPO / cfg["init"])
    task = build_task(cfg)
    assert not task.automatic_optimization and cfg["trainer"]["gradient_clip_val"] is None
    dm = data_cls(data=str(dataset), folds=None, fold=0, **cfg["data"])
    dm.setup()
    assert len(dm.train_set) and len(dm.val_set)
    if name == "restore_adversarial":
        # every tensor of the shipped restorer fits the config's model (init skips any that do not)
        own = task.net.state_dict()
        shipped = load_state(cfg["init"])
        assert set(shipped) == set(own) and all(torch.equal(own[k], v.to(own[k].dtype)) for k, v in shipped.items())
        assert not any(p.requires_grad for p in task.net.inpainter.parameters())
        assert all(p.requires_grad for p in task.net.colorizer.parameters())
    else:
        assert (cfg["monitor"], cfg["monitor_mode"]) == ("val/score", "max")
        assert dm.paired_val  # a prepared dataset's val photos have their true colours: val/score is logged
        item = dm.train_set[0]
        assert item["a"].shape == item["b"].shape == (3, cfg["data"]["size"], cfg["data"]["size"])


def test_default_classifier_starts_from_the_shipped_segmenter() -> None:
    """classify.yaml names the shipped segmenter by file name: the config loader resolves it to the
    package's asset (the model builders see real paths only), offline."""
    from restoria.models import create_model
    from restoria.weights import default_weights

    cfg = dict(load_config(CONFIGS / "classify.yaml")["model"])
    assert cfg["encoder_weights"] == str(default_weights("segment.safetensors"))
    model = create_model(cfg.pop("name"), **cfg)
    seg = load_state(default_weights("segment.safetensors"))
    own = model.backbone.state_dict()
    assert all(torch.equal(v, seg[f"encoder.{k}"].to(v.dtype)) for k, v in own.items() if v.is_floating_point())
    assert model.frozen[-1].startswith("features.13.") and not any(n.startswith("features.14") for n in model.frozen)


TRAINING_CONFIGS = sorted(p.stem for p in CONFIGS.glob("*.yaml") if "task" in yaml.safe_load(p.read_text()))


@pytest.mark.parametrize("name", TRAINING_CONFIGS)
def test_every_training_config_builds_its_task(name: str) -> None:
    """Each recipe in configs/ builds its LightningModule as `restoria train` does, offline: pretrained
    encoders are switched off (they would download), an `init` file is found from the repository root
    or, when it is an earlier run's output, left out."""
    cfg = load_config(CONFIGS / f"{name}.yaml")
    if cfg["model"].get("encoder_weights") == "imagenet":
        cfg["model"]["encoder_weights"] = None
    if "init" in cfg:
        cfg["init"] = str(REPO / cfg["init"])
        if not Path(cfg["init"]).exists():
            del cfg["init"]  # the weights of an earlier run (e.g. runs/sr_x2), not here: start from scratch
    task = build_task(cfg)
    trainable = sum(p.numel() for p in task.parameters() if p.requires_grad)
    assert trainable > 0 and cfg["monitor"] and cfg["trainer"]["checkpoint_every"] > 0


def test_training_configs_are_all_found() -> None:
    assert {"restore", "restore_seed", "restore_color", "sr_x2", "sr_x4", "srgan_x2", "classify_resnet50"} <= set(TRAINING_CONFIGS)
