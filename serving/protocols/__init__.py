"""Request/response codecs. The body's shape picks the protocol; the answer speaks the same one.

- native: ``{"inputs": [[...]] | {"col": [...]}}`` -> ``{"model", "version", "outputs"}``
- MLflow scoring: ``dataframe_split``, ``dataframe_records``, ``instances``, ``inputs`` -> ``{"predictions"}``
- Open Inference Protocol v2: ``{"inputs": [{"name", "shape", "datatype", "data"}]}`` -> v2 response
"""

from types import ModuleType
from typing import Any

from serving.protocols import mlflow, native, v2

PROTOCOLS: dict[str, ModuleType] = {"native": native, "mlflow": mlflow, "v2": v2}


def detect(body: Any) -> str:
    if isinstance(body, dict):
        if body.keys() & mlflow.MARKERS:
            return "mlflow"
        inputs = body.get("inputs")
        if isinstance(inputs, list) and inputs and isinstance(inputs[0], dict) and "datatype" in inputs[0]:
            return "v2"
    return "native"
