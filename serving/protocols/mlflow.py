"""MLflow scoring server payloads (``mlflow models serve`` /invocations), so MLflow callers switch unchanged."""

from typing import Any

import numpy as np
from django.conf import settings

from core.errors import ModelyardError
from modelkit.inputs import parse_inputs

MARKERS = frozenset({"dataframe_split", "dataframe_records", "instances"})
_PRIMARY = ("labels", "predictions", "ids")


def _bad(message: str) -> ModelyardError:
    return ModelyardError(message, field="inputs", code="invalid_input")


def _records(records: list[Any], columns: list[str] | None) -> dict[str, list[Any]]:
    if not columns:
        raise _bad("Records need a model whose signature names its columns; send rows instead")
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise _bad("dataframe_records must be a list of objects")
    try:
        return {name: [record[name] for record in records] for name in columns}
    except KeyError as exc:
        raise _bad(f"A record is missing the column {exc.args[0]!r}") from None


def _split(frame: Any, columns: list[str] | None) -> Any:
    if not isinstance(frame, dict) or not isinstance(frame.get("data"), list):
        raise _bad("dataframe_split must be an object with 'data' (and optionally 'columns')")
    names, rows = frame.get("columns"), frame["data"]
    if not names or not columns:
        return rows
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) != len(set(names)):
        raise _bad("dataframe_split.columns must be distinct names")
    if not all(isinstance(row, list) and len(row) == len(names) for row in rows):
        raise _bad("Each dataframe_split row must have one value per column")
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def decode(body: Any, signature: dict[str, Any]) -> np.ndarray:
    columns = (signature.get("inputs") or {}).get("columns")
    if not isinstance(body, dict):
        raise _bad("The body must be a JSON object such as {\"dataframe_split\": ...}")
    if "dataframe_split" in body:
        inputs = _split(body["dataframe_split"], columns)
    elif "dataframe_records" in body:
        inputs = _records(body["dataframe_records"], columns) if body["dataframe_records"] else []
    elif "instances" in body or "inputs" in body:
        inputs = body.get("instances", body.get("inputs"))
        if isinstance(inputs, list) and inputs and isinstance(inputs[0], dict):
            inputs = _records(inputs, columns)
    else:
        raise _bad("Send one of dataframe_split, dataframe_records, instances or inputs")
    return parse_inputs(inputs, signature, settings.MODELYARD_PREDICT_MAX_ROWS)


def decode_csv(text: str, signature: dict[str, Any]) -> np.ndarray:
    import csv

    lines = list(csv.reader(text.splitlines()))
    if not lines:
        raise _bad("The CSV body is empty")
    header, rows = lines[0], lines[1:]
    try:
        values = [[float(cell) for cell in row] for row in rows]
    except ValueError:
        raise ModelyardError("CSV values must be numbers", field="inputs", code="wrong_type") from None
    return decode({"dataframe_split": {"columns": header, "data": values}}, signature)


def encode(outputs: dict[str, Any], *, model: str, version: int, body: Any) -> dict[str, Any]:
    for name in _PRIMARY:
        if name in outputs:
            return {"predictions": outputs[name]}
    return {"predictions": outputs}
