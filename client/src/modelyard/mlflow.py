"""MLflow model directories (``MLmodel`` plus files), read without MLflow installed.

The onnx flavor uploads its ONNX file. The sklearn flavor is a pickle: the user trusts it on their own
machine, so it is loaded here and saved again as skops; the server never unpickles anything. The
signature and input example come from MLflow's files, the run id and the model's source go into the
version's lineage. Every file is checked before anything is sent.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import yaml

from modelyard.artifacts import EXAMPLE_ROWS, Artifact, check_file, skops_bytes
from modelyard.errors import UsageError

# MLflow's column types (mlflow.types.DataType) for the numeric dtypes Modelyard serves.
COLUMN_TYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}
TENSOR_TYPES = {"float64": "float64", "float32": "float32", "int64": "int64", "int32": "int32"}


def is_mlflow_model(path: Path) -> bool:
    return path.is_dir() and (path / "MLmodel").is_file()


def read_mlflow_model(path: Path) -> Artifact:
    """The artifact to upload for an MLflow model directory; UsageError naming what is wrong or missing."""
    if not is_mlflow_model(path):
        raise UsageError(f"{path} is a directory without an MLmodel file (not an MLflow model)")
    try:
        spec = yaml.safe_load((path / "MLmodel").read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path / 'MLmodel'} is not valid YAML: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("flavors"), dict):
        raise UsageError(f"{path / 'MLmodel'} has no flavors")
    flavors = spec["flavors"]
    if "onnx" in flavors:
        artifact = _onnx(path, flavors["onnx"])
    elif "sklearn" in flavors:
        artifact = _sklearn(path, flavors["sklearn"])
    else:
        raise UsageError(f"MLflow flavors {sorted(flavors)}: this client pushes the onnx and sklearn flavors")
    artifact.signature = signature_from_mlflow(spec.get("signature"))
    artifact.input_example = _input_example(path, spec, artifact.signature)
    artifact.lineage, artifact.tags = _lineage(path, spec), _tags(spec, artifact)
    return artifact


def _file(path: Path, name: Any, what: str) -> Path:
    if not isinstance(name, str) or not name:
        raise UsageError(f"{path / 'MLmodel'} does not name the {what}")
    target = (path / name).resolve()
    if path.resolve() not in target.parents:
        raise UsageError(f"{path / 'MLmodel'} names a {what} outside the model directory: {name}")
    if not target.is_file():
        raise UsageError(f"{path} is incomplete: the {what} {name} is missing")
    return target


def _onnx(path: Path, flavor: dict[str, Any]) -> Artifact:
    onnx_file = _file(path, flavor.get("data"), "ONNX file")
    artifact = Artifact(filename=onnx_file.name, path=onnx_file)
    check_file(artifact)
    return artifact


def _sklearn(path: Path, flavor: dict[str, Any]) -> Artifact:
    pickled = _file(path, flavor.get("pickled_model"), "pickled model")
    if flavor.get("serialization_format") == "cloudpickle":
        try:
            import cloudpickle as loader  # noqa: F401  (cloudpickle's own objects need it importable)
        except ImportError:
            pass  # plain estimators load with pickle too; a failure below names what is missing
    try:
        with pickled.open("rb") as handle:
            estimator = pickle.load(handle)  # noqa: S301  (the user's own file, loaded on their machine)
    except ModuleNotFoundError as exc:
        raise UsageError(f"Loading {pickled.name} needs the module {exc.name}: install it here") from None
    except Exception as exc:
        raise UsageError(f"{pickled.name} could not be loaded: {type(exc).__name__}: {exc}") from None
    stem = pickled.name.rsplit(".", 1)[0]
    return Artifact(filename=f"{stem}.skops", data=skops_bytes(estimator))


def signature_from_mlflow(signature: Any) -> dict[str, Any]:
    """Modelyard's signature from MLflow's: column names and dtype (colspec), or dtype and width (tensor)."""
    if not isinstance(signature, dict) or not signature.get("inputs"):
        return {}
    try:
        inputs = json.loads(signature["inputs"]) if isinstance(signature["inputs"], str) else signature["inputs"]
    except json.JSONDecodeError as exc:
        raise UsageError(f"The MLmodel signature's inputs are not JSON: {exc}") from None
    if not isinstance(inputs, list) or not inputs:
        return {}
    if inputs[0].get("type") == "tensor":
        tensor = inputs[0].get("tensor-spec") or {}
        shape, dtype = tensor.get("shape") or [], TENSOR_TYPES.get(str(tensor.get("dtype")))
        if len(inputs) != 1 or dtype is None or len(shape) != 2:
            raise UsageError(f"MLflow tensor signature {inputs}: Modelyard serves one 2-D numeric input")
        return {"inputs": {"dtype": dtype, "features": shape[1] if shape[1] > 0 else None, "columns": None}}
    kinds = {column.get("type") for column in inputs}
    unknown = sorted(str(k) for k in kinds if k not in COLUMN_TYPES)
    if unknown:
        raise UsageError(f"MLflow column types {unknown}: Modelyard serves numeric inputs only")
    dtypes = {COLUMN_TYPES[k] for k in kinds}
    names = [column.get("name") for column in inputs]
    columns = names if all(isinstance(n, str) and n for n in names) else None
    return {"inputs": {"dtype": dtypes.pop() if len(dtypes) == 1 else "float64", "features": len(inputs),
                       "columns": columns}}


def _input_example(path: Path, spec: dict[str, Any], signature: dict[str, Any]) -> list[list[Any]] | None:
    info = spec.get("saved_input_example_info")
    if not isinstance(info, dict):
        return None
    example_file = _file(path, info.get("artifact_path"), "input example")
    try:
        raw = json.loads(example_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{example_file.name} is not JSON: {exc}") from None
    columns = (signature.get("inputs") or {}).get("columns")
    rows = example_rows(raw, columns)
    if rows is None:
        raise UsageError(f"{example_file.name} is no input example this client reads (split, records or inputs)")
    return rows[:EXAMPLE_ROWS]


def example_rows(raw: Any, columns: list[str] | None) -> list[list[Any]] | None:
    """Rows from MLflow's example layouts: split, records, {"inputs": ...} and serving payloads."""
    if isinstance(raw, dict):
        for key in ("dataframe_split", "dataframe_records", "inputs", "instances"):
            if key in raw:
                return example_rows(raw[key], columns)
        if "data" in raw:  # pandas split orient: {"columns": [...], "data": [[...]]}
            order = raw.get("columns")
            rows = raw["data"]
            if columns and order and set(order) == set(columns):
                return [[dict(zip(order, row, strict=True))[c] for c in columns] for row in rows]
            return rows
        if all(isinstance(v, list) for v in raw.values()):  # named columns
            names = columns if columns and set(columns) == set(raw) else list(raw)
            return [list(row) for row in zip(*(raw[n] for n in names), strict=True)]
        return None
    if isinstance(raw, list) and raw and isinstance(raw[0], dict):  # records
        names = columns if columns and set(columns) == set(raw[0]) else list(raw[0])
        return [[record[n] for n in names] for record in raw]
    if isinstance(raw, list) and raw and isinstance(raw[0], list):
        return raw
    return None


def _lineage(path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """The run id, and MLflow's model source: ``runs:/<run id>/<artifact path>``, else the directory pushed."""
    run_id, artifact_path = spec.get("run_id"), spec.get("artifact_path")
    if isinstance(run_id, str) and run_id:
        source = f"runs:/{run_id}/{artifact_path}" if artifact_path else f"runs:/{run_id}"
        return {"source_run": run_id, "source": source}
    return {"source": path.resolve().as_uri()}


def _tags(spec: dict[str, Any], artifact: Artifact) -> dict[str, Any]:
    tags = {"mlflow.flavor": "onnx" if artifact.filename.endswith(".onnx") else "sklearn"}
    for key in ("mlflow_version", "model_uuid", "utc_time_created"):
        if spec.get(key):
            tags[f"mlflow.{key}"] = str(spec[key])
    return tags
