"""The README's first command, end to end: `restoria examples`, then `restore --save-stages` on them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
from conftest import invoke
from PIL import Image

README = Path(__file__).resolve().parents[1] / "README.md"


def first_command() -> list[list[str]]:
    """The restoria calls of the README's first bash block, as argument lists."""
    block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S).group(1)
    calls = [shlex.split(part.strip()) for part in block.split("&&")]
    return [c[1:] for c in calls if c and c[0].endswith("restoria")]


def test_readme_first_command(tmp_path: Path, runner, monkeypatch) -> None:
    calls = first_command()
    assert [c[0] for c in calls] == ["examples", "restore"] and "--save-stages" in calls[1]
    monkeypatch.chdir(tmp_path)
    for call in calls:
        res = invoke(runner, *call)
        assert res.exit_code == 0, res.output
    examples, restored = tmp_path / calls[0][calls[0].index("--out") + 1], tmp_path / calls[1][calls[1].index("--out") + 1]
    names = sorted(p.stem for p in examples.glob("*.png"))
    assert len(names) >= 4
    for name in names:
        gray = np.asarray(Image.open(examples / f"{name}.png"))
        out = {s: np.asarray(Image.open(restored / f"{name}{s}.png")) for s in ("", ".mask", ".inpainted", ".colorized")}
        assert out[""].shape == gray.shape + (3,) and out[".colorized"].shape == gray.shape + (3,)
        assert out[".inpainted"].shape == gray.shape and set(np.unique(out[".mask"])) <= {0, 255}
        # every example carries one competition polygon of one flat value: it is found and filled
        found = out[".mask"] > 0
        assert found.mean() > 0.002, name
        assert np.abs(out[".inpainted"][found].astype(int) - gray[found]).mean() > 1, name
        assert np.abs(out[""].astype(int) - out[""].mean(-1, keepdims=True)).mean() > 1, name  # coloured
