"""Runtimes keyed by artifact format: each format is one small module behind ``Runtime``.

Modules are imported on first use, so a process pays for onnxruntime or scikit-learn only when a
model of that format is loaded.
"""

import importlib
from pathlib import Path

from modelkit.errors import RuntimeLoadError
from modelkit.policy import LoadPolicy
from modelkit.runtimes.base import Runtime

RUNTIMES: dict[str, str] = {
    "onnx": "modelkit.runtimes.onnx:OnnxRuntime",
    "skops": "modelkit.runtimes.skops:SkopsRuntime",
    "pickle": "modelkit.runtimes.pickled:PickleRuntime",
    "joblib": "modelkit.runtimes.pickled:PickleRuntime",
}


def load_runtime(fmt: str, path: Path, policy: LoadPolicy) -> Runtime:
    try:
        module, _, name = RUNTIMES[fmt].partition(":")
    except KeyError:
        raise RuntimeLoadError(f"No runtime serves the format {fmt!r}") from None
    runtime_class = getattr(importlib.import_module(module), name)
    return runtime_class(path, policy)


__all__ = ["RUNTIMES", "Runtime", "RuntimeLoadError", "load_runtime"]
