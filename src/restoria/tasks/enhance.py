"""The enhance task: a whole aged photo -> the clean photo (grain, blur, JPEG blocks and fading out).

Like super-resolution, the data are clean crops of real photos (`data.superres.SRDataModule`) and the
task degrades them itself, with the ageing model (`restoria.data.ageing`), so the degradation lives in
one place. Training ages each crop afresh: global ageing with structural damage on top (which the loss
ignores: the fill stage repairs it), and a `clean_fraction` of crops left as they are with themselves
as the target, so a clean photo learns to pass through. The network works on luma: the eye reads
detail from it, colour photos keep their chroma, and gray photos are colorized after.

With `train_crop`, each photo is aged whole and the network learns on a random `train_crop` crop of it
while its levels path reads the whole aged photo, as at inference (where every tile of a scan gets the
levels of the whole photo): a 160 px crop of a sky cannot tell a faded print from a gray day, the whole
photo can.

Validation ages each fixed crop with its own seed (global ageing only), and logs PSNR/SSIM of the
output and of the aged input against the clean photo (`val/psnr`, `val/psnr_input`, `val/psnr_gain`,
`val/ssim`, `val/ssim_input`), and `val/clean_change`: the mean absolute change (in gray levels) the
network makes to clean crops, which should stay near 0.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import numpy as np
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from restoria.data.ageing import AgeingConfig, age_photo
from restoria.imaging import to_uint8
from restoria.metrics.superres import luma, quantise
from restoria.models import create_model
from restoria.models.enhancer.levels import photo_view
from restoria.tasks.common import configure_optimizer, load_matching


def age_batch(rgb: torch.Tensor, cfg: AgeingConfig, rngs: list[np.random.Generator], clean_fraction: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 3, H, W) clean RGB in [0, 1] -> (aged RGB, valid (B, 1, H, W): 1 outside structural damage).
    Each image draws from its own generator; a `clean_fraction` of them stay clean."""
    aged, valid = [], []
    for x, rng in zip(rgb, rngs):
        img = to_uint8(x)
        if rng.random() < clean_fraction:
            out, mask = img, np.zeros(img.shape[:2], np.uint8)
        else:
            a = age_photo(img, rng, cfg)
            out, mask = a.image, a.mask
        aged.append(torch.from_numpy(out).permute(2, 0, 1).float() / 255)
        valid.append(torch.from_numpy(mask == 0).float()[None])
    return torch.stack(aged).to(rgb.device), torch.stack(valid).to(rgb.device)


def random_crop(images: tuple[torch.Tensor, ...], size: int) -> tuple[torch.Tensor, ...]:
    """The same random `size` x `size` window of every image in each (B, C, H, W) tensor, a window per
    photo."""
    h, w = images[0].shape[-2:]
    ys, xs = torch.randint(0, h - size + 1, (len(images[0]),)), torch.randint(0, w - size + 1, (len(images[0]),))
    return tuple(torch.stack([t[i, :, y : y + size, x : x + size] for i, (y, x) in enumerate(zip(ys.tolist(), xs.tolist()))]) for t in images)


class EnhanceTask(L.LightningModule):
    """Trains the enhancer (`model.name: enhancer`) with L1 on luma outside structural damage."""

    def __init__(
        self,
        model: dict[str, Any],
        ageing: dict[str, Any] | None = None,
        clean_fraction: float = 0.15,
        loss: dict[str, float] | None = None,
        optimizer: dict[str, Any] | None = None,
        init: str | None = None,
        train_crop: int | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        model = dict(model)
        self.net = create_model(model.pop("name", "enhancer"), **model)
        if init:
            load_matching(self.net, init)
        self.ageing = AgeingConfig.from_dict(ageing)
        self.val_ageing = AgeingConfig.from_dict({**(ageing or {}), "damage": {}, "min_global": 1})
        self.clean_fraction = clean_fraction
        self.train_crop = train_crop
        self.loss_cfg = {"l1": 1.0, **(loss or {})}
        self.optim_cfg: dict[str, Any] = {"name": "adamw", "lr": 1e-3, "schedule": "cosine"}
        self.optim_cfg.update(optimizer or {})
        self._val: dict[str, list[torch.Tensor]] = {}

    def forward(self, y: torch.Tensor, view: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, H, W) luma in [0, 1], sides multiples of the network's `multiple` -> enhanced luma.
        `view`: the whole photo's levels view when `y` is a crop of it."""
        return self.net(y, view)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        hr = batch["hr"]
        rngs = [np.random.default_rng(int(s)) for s in torch.randint(0, 2**62, (len(hr),))]
        aged, valid = age_batch(hr, self.ageing, rngs, self.clean_fraction)
        aged_y, clean_y, view = luma(aged), luma(hr), None
        if self.train_crop and self.train_crop < hr.shape[-1]:
            view = photo_view(aged_y) if self.net.levels is not None else None
            aged_y, clean_y, valid = random_crop((aged_y, clean_y, valid), self.train_crop)
        err = (self(aged_y, view) - clean_y).abs() * valid
        loss = self.loss_cfg["l1"] * err.sum() / valid.sum().clamp_min(1)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(hr))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        hr = batch["hr"]
        rngs = [np.random.default_rng([batch_idx, i]) for i in range(len(hr))]
        aged, _ = age_batch(hr, self.val_ageing, rngs)
        clean_y, aged_y = luma(hr), luma(aged)
        out = quantise(self(aged_y))
        for suffix, pred in (("", out), ("_input", aged_y)):
            self._append("psnr" + suffix, peak_signal_noise_ratio(pred, clean_y, data_range=1.0, reduction="none", dim=(1, 2, 3)))
            self._append("ssim" + suffix, structural_similarity_index_measure(pred, clean_y, data_range=1.0, reduction="none"))
        self._append("clean_change", (quantise(self(clean_y)) - clean_y).abs().mean((1, 2, 3)) * 255)

    def _append(self, key: str, v: torch.Tensor) -> None:
        self._val.setdefault(key, []).append(v.detach().float().cpu())

    def on_validation_epoch_end(self) -> None:
        if not self._val:
            return
        logs = {f"val/{k}": float(torch.cat(v).mean()) for k, v in self._val.items()}
        self._val = {}
        logs["val/psnr_gain"] = logs["val/psnr"] - logs["val/psnr_input"]
        psnr = logs.pop("val/psnr")
        self.log_dict(logs, sync_dist=True)
        self.log("val/psnr", psnr, prog_bar=True, sync_dist=True)

    def configure_optimizers(self) -> Any:
        return configure_optimizer(self, self.optim_cfg)
