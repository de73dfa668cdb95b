"""The colorizer's global view: the ImageNet classifier head's reading of the whole photo, fused in."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import skimage.data
import torch
import torch.nn.functional as F

from restoria.data.restore import RestoreDataModule
from restoria.imaging import to_gray
from restoria.models import create_model
from restoria.models.pretrained import imagenet_state_dict
from restoria.tasks.restore import RestoreTask

LITE0 = "timm-tf_efficientnet_lite0"
MODEL = {
    "name": "two_stage", "encoder": "mobilenet_v2", "decoder_channels": [32, 16, 16, 8, 8],
    "colorize_encoder": LITE0, "colorize_encoder_weights": "imagenet", "colorize_decoder_channels": [64, 32, 16, 16, 8],
    "color_space": "ycbcr", "predict_mask": True, "composite": True, "color_head": "bins", "chroma_bins": 8,
}
CATS = {281, 282, 283, 284, 285}  # ImageNet's domestic cats


def gray_tensor(rgb, size: int = 224) -> torch.Tensor:
    x = torch.from_numpy(to_gray(rgb)).float()[None, None] / 255
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def test_the_global_view_starts_at_zero_so_the_colorizer_is_unchanged() -> None:
    torch.manual_seed(0)
    plain = create_model(**MODEL).eval()
    fused = create_model(**MODEL, colorize_global=True).eval()
    fused.load_state_dict(plain.state_dict(), strict=False)
    x = gray_tensor(skimage.data.astronaut(), 128)
    with torch.no_grad():
        assert torch.equal(plain.color(x), fused.color(x))


def test_the_global_view_is_the_imagenet_classifiers_and_it_knows_a_gray_cat() -> None:
    """The pooled features are the ones ImageNet's 1000-class layer reads: on the gray cat (the
    colorizer sees gray) that layer ranks a domestic cat in its top 5."""
    net = create_model(**MODEL, colorize_global=True).eval()
    state = imagenet_state_dict(LITE0)
    with torch.no_grad():
        deepest = net.colorizer.encoder(net._norm(gray_tensor(skimage.data.chelsea())))[-1]
        logits = F.linear(net.global_context.describe(deepest), state["classifier.weight"], state["classifier.bias"])
    assert set(logits[0].topk(5).indices.tolist()) & CATS


def test_training_moves_the_projection_and_leaves_the_frozen_head(dataset: Path) -> None:
    torch.manual_seed(0)
    task = RestoreTask(model={**MODEL, "colorize_global": True}, freeze=["inpainter", "colorizer.encoder", "global_context.head"],
                       colorize_from="truth", loss={"chroma_ce": 1.0, "rgb_l1": 0.0, "rgb_mse": 0.0}, optimizer={"lr": 1e-2})
    head = {k: v.clone() for k, v in task.net.global_context.head.state_dict().items()}
    project = task.net.global_context.project.weight.clone()
    dm = RestoreDataModule(str(dataset), crop=64, batch_size=2, damage={"max_bbox": 100})
    trainer = L.Trainer(max_steps=2, limit_val_batches=0, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(task, datamodule=dm)
    assert all(torch.equal(head[k], v) for k, v in task.net.global_context.head.state_dict().items())  # batch norm too
    assert not torch.equal(project, task.net.global_context.project.weight)
