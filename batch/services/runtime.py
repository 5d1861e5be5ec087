"""The model a batch worker runs: the version's serving runtime (its ONNX conversion when it has one),
loaded with the deployment's LoadPolicy and kept per process. No web slots, no response cache: a
worker runs one chunk at a time, and the chunk task's time limit bounds every call.
"""

import threading
from collections import OrderedDict

from batch.files import local_copy
from modelkit.runtimes import Runtime, RuntimeLoadError, load_runtime
from registry.artifacts import file_sha256
from registry.kit import load_policy
from registry.models import ModelVersion

# A worker usually serves one job after another of the same version; two covers a switch back.
_KEEP = 2
_loaded: OrderedDict[tuple[int, str], Runtime] = OrderedDict()
_lock = threading.Lock()


class ArtifactChanged(Exception):
    """The version's file no longer matches its sha256: the version must not run."""


def serving_artifact(version: ModelVersion) -> tuple[str, str, str]:
    """(format, storage key, sha256) of what answers for the version, as the online routes choose it."""
    if version.serving_storage_key:
        return version.serving_format, version.serving_storage_key, version.serving_sha256
    return version.format, version.storage_key, version.sha256


def runtime_for(version: ModelVersion) -> Runtime:
    fmt, key, sha256 = serving_artifact(version)
    with _lock:
        runtime = _loaded.get((version.id, sha256))
        if runtime is not None:
            _loaded.move_to_end((version.id, sha256))
            return runtime
    path = local_copy(key, sha256)
    if file_sha256(path) != sha256:
        raise ArtifactChanged("The model artifact no longer matches its sha256: it changed after upload")
    runtime = load_runtime(fmt, path, load_policy())
    with _lock:
        _loaded[(version.id, sha256)] = runtime
        while len(_loaded) > _KEEP:
            _loaded.popitem(last=False)
    return runtime


def clear() -> None:
    with _lock:
        _loaded.clear()


__all__ = ["ArtifactChanged", "RuntimeLoadError", "clear", "runtime_for", "serving_artifact"]
