"""Score a folder of predictions against a dataset split with the competition metric."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from restoria.io import InputError, read_csv, read_image
from restoria.metrics.score import CompetitionScore


def evaluate(
    data: str | Path, pred: str | Path, split: str = "test", progress: Callable[[int], None] | None = None
) -> tuple[dict[str, float], list[InputError]]:
    """Mean SSIM, masked SSIM, hue-histogram similarity and score over DATA/<split>.csv's IDs.

    Ground truth is DATA/<split>_gt/<ID>.png, the mask DATA/<split>_mask/<ID>.png and the prediction
    PRED/<ID>.png. An unreadable or missing file skips that ID and is returned as an error.
    """
    data, pred = Path(data), Path(pred)
    errors: list[InputError] = []
    rows = read_csv(data / f"{split}.csv", required=("ID",), errors=errors)
    score = CompetitionScore()
    for row in rows:
        rid = row["ID"].strip()
        try:
            true = read_image(data / f"{split}_gt" / f"{rid}.png", "RGB")
            mask = read_image(data / f"{split}_mask" / f"{rid}.png", "L")
            p_path = pred / f"{rid}.png"
            guess = read_image(p_path, "RGB")
            if guess.shape != true.shape:
                raise InputError(p_path, f"size {guess.shape[1]}x{guess.shape[0]} differs from the ground truth {true.shape[1]}x{true.shape[0]}")
            score.update(true, guess, mask)
        except InputError as err:
            errors.append(err)
        if progress:
            progress(1)
    return score.compute(), errors
