"""Package attributes imported on first use (PEP 562), so that importing one light module of a model
package (a helper inference needs) does not import the package's networks and, through them, timm,
segmentation_models_pytorch and torchvision (about 1.5 s a command on onnxruntime, which never builds them)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A `__getattr__` for `package` that imports `package.<exports[name]>` when `name` is first asked for."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
