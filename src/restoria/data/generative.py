"""Images (and class labels) for the generative models: scikit-learn's bundled handwritten digits, or any
folder of images.

`--data digits` reads the 1,797 8x8 digits that ship with scikit-learn (real data, offline), scaled to
[0, 1] and upsampled to `image_size`. A folder is read recursively; each image is cut to its central
square and resized. When every image sits in a first-level subfolder and there are at least two, the
subfolders are the classes (sorted by name), which is what the label-conditional GAN learns from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from restoria.data.base import SplitDataModule, check_channels
from restoria.data.transforms import resize
from restoria.imaging import to_tensor
from restoria.io import InputError, list_images, read_image

BUILTIN = ("digits",)


def digits(image_size: int, channels: int = 1) -> tuple[torch.Tensor, list[int]]:
    """scikit-learn's digits as (N, channels, S, S) in [0, 1] (bilinear upsampling of the 8x8 originals) and labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.from_numpy(bunch.images).float().div(16.0).unsqueeze(1)
    if image_size != 8:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False).clamp(0, 1)
    return x.expand(-1, channels, -1, -1).contiguous(), [int(t) for t in bunch.target]


def folder_items(root: Path) -> tuple[list[Path], list[int], list[str]]:
    """The images under `root`, their labels and the class names (first-level subfolders, when every
    image is in one and there are two or more; else one class)."""
    files = list_images([root])
    if not files:
        raise InputError(root, "no images found in this folder")
    parents = [f.relative_to(root).parts for f in files]
    names = sorted({p[0] for p in parents if len(p) > 1})
    if len(names) >= 2 and all(len(p) > 1 for p in parents):
        index = {n: i for i, n in enumerate(names)}
        return files, [index[p[0]] for p in parents], names
    return files, [0] * len(files), [root.name]


def square(image: torch.Tensor) -> torch.Tensor:
    """The central square of a (C, H, W) image."""
    h, w = image.shape[-2:]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return image[:, y : y + s, x : x + s]


class TensorImages(Dataset):
    """Images already in memory -> {"image" (C, S, S) in [0, 1], "label" int64}."""

    def __init__(self, images: torch.Tensor, labels: list[int]) -> None:
        self.images = images
        self.labels = torch.tensor(labels, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": self.images[i], "label": self.labels[i]}


@dataclass(eq=False)
class FolderImages(Dataset):
    """Image files -> {"image" (C, S, S) in [0, 1], "label"}, read when asked (a folder may not fit in memory).
    Training reads flip horizontally half the time."""

    files: list[Path]
    labels: list[int]
    image_size: int
    channels: int
    flip: bool = False

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        image = to_tensor(read_image(self.files[i], "L" if self.channels == 1 else "RGB"))
        image = resize(square(image), self.image_size, self.image_size).clamp(0, 1)
        if self.flip and torch.rand(()) < 0.5:
            image = image.flip(-1)
        return {"image": image, "label": torch.tensor(self.labels[i], dtype=torch.long)}


class GenerativeDataModule(SplitDataModule):
    """`data`: "digits" or an image folder; a seeded stratified hold-out of `val_fraction` (or fold
    `fold` of `folds`) validates. `num_classes` and `class_names` are known after `setup`."""

    def __init__(
        self,
        data: str,
        image_size: int = 32,
        channels: int = 1,
        flip: bool = False,
        **splits: Any,
    ) -> None:
        check_channels(channels)
        super().__init__(data, **{"batch_size": 64, "val_batch_size": 256, "val_fraction": 0.1, **splits})
        self.image_size = image_size
        self.channels = channels
        self.flip = flip
        self.num_classes = 0
        self.class_names: list[str] = []

    def setup(self, stage: str | None = None) -> None:
        if self.data in BUILTIN:
            images, labels = digits(self.image_size, self.channels)
            self.class_names = [str(d) for d in range(10)]
            train_idx, val_idx = self.folder_split(list(range(len(labels))), labels)
            val_idx = self.trim_val(val_idx)
            self.train_set = TensorImages(images[train_idx], [labels[i] for i in train_idx])
            self.val_set = TensorImages(images[val_idx], [labels[i] for i in val_idx])
        else:
            root = Path(self.data)
            if not root.is_dir():
                raise InputError(root, f"not a folder of images (or one of the built-in datasets: {', '.join(BUILTIN)})")
            files, labels, self.class_names = folder_items(root)
            items = list(zip(files, labels))
            train, val = self.folder_split(items, labels if len(self.class_names) > 1 else None)
            val = self.trim_val(val)
            self.train_set = FolderImages([f for f, _ in train], [lab for _, lab in train], self.image_size, self.channels, self.flip)
            self.val_set = FolderImages([f for f, _ in val], [lab for _, lab in val], self.image_size, self.channels)
        self.num_classes = len(self.class_names)
