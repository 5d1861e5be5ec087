"""Runtimes keyed by artifact format: each format is one small module behind ``Runtime``.

Modules are imported on first use, so a process pays for onnxruntime or scikit-learn only when a
model of that format is loaded.
"""

import importlib
from pathlib import Path

from modelkit import memory
from modelkit.errors import RuntimeLoadError
from modelkit.policy import LoadPolicy
from modelkit.runtimes.base import Runtime

RUNTIMES: dict[str, str] = {
    "onnx": "modelkit.runtimes.onnx:OnnxRuntime",
    "skops": "modelkit.runtimes.skops:SkopsRuntime",
    "pickle": "modelkit.runtimes.pickled:PickleRuntime",
    "joblib": "modelkit.runtimes.pickled:PickleRuntime",
    "xgboost": "modelkit.runtimes.boosting:XGBoostRuntime",
    "lightgbm": "modelkit.runtimes.boosting:LightGBMRuntime",
    "torchscript": "modelkit.runtimes.torchscript:TorchScriptRuntime",
    "savedmodel": "modelkit.runtimes.savedmodel:SavedModelRuntime",
    "pt2": "modelkit.runtimes.torchexport:TorchExportRuntime",
}


def load_runtime(fmt: str, path: Path, policy: LoadPolicy) -> Runtime:
    """Load the artifact; ``memory_bytes`` is then what the load grew the process by (file size at least)."""
    try:
        module, _, name = RUNTIMES[fmt].partition(":")
    except KeyError:
        raise RuntimeLoadError(f"No runtime serves the format {fmt!r}") from None
    runtime_class = getattr(importlib.import_module(module), name)  # imported before the first reading
    with memory.measuring:
        before = memory.rss_bytes()
        runtime = runtime_class(path, policy)
        runtime.memory_bytes = max(runtime.memory_bytes, memory.rss_bytes() - before)
    return runtime


__all__ = ["RUNTIMES", "Runtime", "RuntimeLoadError", "load_runtime"]
