"""The package's shape: imports flow one way (no cycles, no layer importing the one above it), the top
level stays small, and the README's layout map names every folder as it is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import restoria

PKG = Path(restoria.__file__).parent
README = Path(__file__).resolve().parents[1] / "README.md"
# a layer may import only the layers before it (and the shared top-level modules)
LAYERS = ["models", "metrics", "grouping", "data", "inference", "tasks", "commands", "serve"]
MAX_TOP_LEVEL = 14


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """module -> the restoria modules it imports, at the top or inside a function."""
    modules = {module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("restoria"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("restoria")}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else None


def test_no_import_cycles() -> None:
    assert cycles(imports()) == []


def test_imports_flow_one_way() -> None:
    wrong = []
    for mod, deps in imports().items():
        here = layer(mod)
        for dep in deps:
            there = layer(dep)
            if here and there and LAYERS.index(there) > LAYERS.index(here):
                wrong.append(f"{mod} -> {dep}")
            if dep == "restoria.cli" or (here is None and there not in (None, "models") and mod != "restoria.cli"):
                wrong.append(f"{mod} -> {dep}")  # the shared top-level modules sit on the models only
    assert wrong == []


def test_top_level_is_small() -> None:
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top


def test_readme_layout_names_every_folder() -> None:
    """Each folder of src/restoria/ (and only those) has its line in the README's layout map."""
    block = README.read_text().split("## Layout", 1)[1].split("```")[1]
    listed = set(re.findall(r"^  (\w+)/", block, re.M))
    folders = {p.name for p in PKG.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert listed == folders
    modules = set(re.findall(r"^  (\w+\.py)", block, re.M))
    assert modules == {p.name for p in PKG.glob("*.py")} - {"__init__.py"}


def test_nothing_points_outside_the_repo() -> None:
    """The repo stands alone: no path in the code, configs, README or model card leaves it."""
    root = README.parent
    files = [README, *PKG.rglob("*.py"), *PKG.rglob("*.md"), *PKG.rglob("*.html"), *(root / "configs").glob("*.yaml"), *(root / "docs").glob("*.md")]
    outside = [f"{f.relative_to(root)}: {m}" for f in files for m in re.findall(r"\.\./shared\S*|/work/\S+", f.read_text())]
    assert outside == []


def test_shipped_weights_fit_in_40_mb() -> None:
    """Every weights file the package ships, together, stays within the 40 MB the project allows."""
    sizes = {p.name: p.stat().st_size for p in (PKG / "assets").glob("*.safetensors")}
    assert {"restore.safetensors", "segment.safetensors", "classify.safetensors"} <= set(sizes)
    assert sum(sizes.values()) <= 40e6, sizes
