"""Runtimes keyed by artifact format. Each format is one small module behind ``Runtime``.

Modules are imported on first use so that the web process does not pay for onnxruntime or
scikit-learn until a model of that format is loaded.
"""

from pathlib import Path

from django.utils.module_loading import import_string

from serving.runtimes.base import Runtime, RuntimeLoadError

RUNTIMES: dict[str, str] = {
    "onnx": "serving.runtimes.onnx.OnnxRuntime",
    "skops": "serving.runtimes.skops.SkopsRuntime",
    "pickle": "serving.runtimes.pickled.PickleRuntime",
    "joblib": "serving.runtimes.pickled.PickleRuntime",
}


def load_runtime(fmt: str, path: Path) -> Runtime:
    try:
        runtime_class = import_string(RUNTIMES[fmt])
    except KeyError:
        raise RuntimeLoadError(f"No runtime serves the format {fmt!r}") from None
    return runtime_class(path)


__all__ = ["RUNTIMES", "Runtime", "RuntimeLoadError", "load_runtime"]
