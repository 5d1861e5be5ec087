"""MLflow scoring server payloads (``mlflow models serve`` /invocations), so MLflow callers switch unchanged.

Row and column limits hold while parsing: a CSV body is read one record at a time and refused at the
first row past the limit or the first line with too many separators; JSON rows are counted before any
column lists or arrays are built from them.
"""

import csv
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
from django.conf import settings

from core.errors import ModelyardError
from modelkit.inputs import column_limit, parse_inputs

MARKERS = frozenset({"dataframe_split", "dataframe_records", "instances"})
_PRIMARY = ("labels", "predictions", "ids")
# One physical line at a time, without copying the body; splitlines() ended lines at \r too.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _bad(message: str, code: str = "invalid_input") -> ModelyardError:
    return ModelyardError(message, field="inputs", code=code)


def _max_rows() -> int:
    return settings.MODELYARD_PREDICT_MAX_ROWS


def _check_rows(rows: list[Any]) -> None:
    if len(rows) > _max_rows():
        raise _bad(f"The batch has {len(rows)} rows; the limit is {_max_rows()}", "too_many_rows")


def _records(records: list[Any], columns: list[str] | None) -> dict[str, list[Any]] | list[list[Any]]:
    """Records by the signature's column names; without names, in the records' own key order, as MLflow's
    scoring server builds its DataFrame (every record must then name the same columns)."""
    if not isinstance(records, list):
        raise _bad("dataframe_records must be a list of objects")
    _check_rows(records)
    if not all(isinstance(record, dict) for record in records):
        raise _bad("dataframe_records must be a list of objects")
    if not columns:
        names = list(records[0]) if records else []
        if any(record.keys() != records[0].keys() for record in records):
            raise _bad(f"Every record must name the same columns as the first one: {names[:20]}")
        return [list(record.values()) if list(record) == names else [record[n] for n in names]
                for record in records]
    try:
        return {name: [record[name] for record in records] for name in columns}
    except KeyError as exc:
        raise _bad(f"A record is missing the column {exc.args[0]!r}") from None


def _split(frame: Any, columns: list[str] | None) -> Any:
    if not isinstance(frame, dict) or not isinstance(frame.get("data"), list):
        raise _bad("dataframe_split must be an object with 'data' (and optionally 'columns')")
    names, rows = frame.get("columns"), frame["data"]
    _check_rows(rows)
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


def _lines(text: str, max_columns: int) -> Iterator[str]:
    """The body's lines, each refused before csv splits it if it holds more values than ``max_columns``.

    Values are counted with str.count: separators outside quotes, knowing from the quotes seen so far
    whether a line starts inside a quoted value (CSV's doubled quotes keep that parity right).
    """
    quoted = False
    for match in _LINE.finditer(text):
        line = match.group()
        quotes = line.count('"')
        if line.count(",") >= max_columns and (
            not quotes or quotes > 4 * max_columns + 16
            or sum(part.count(",") for part in line.split('"')[int(quoted)::2]) >= max_columns
        ):
            raise _bad(f"A CSV line has more than {max_columns} values", "too_many_columns")
        quoted ^= quotes % 2 == 1
        yield line


def _header_order(header: list[str], columns: list[str] | None) -> list[int] | None:
    """Indexes that put the CSV's columns in the signature's order (None: the header is not used)."""
    if not columns:
        return None
    if len(set(header)) != len(header):
        raise _bad("The CSV header must name distinct columns")
    missing = [name for name in columns if name not in header]
    extra = [name for name in header if name not in columns]
    if missing or extra:
        raise _bad(f"Columns must be exactly {columns}; missing {missing}, unexpected {extra}")
    return [header.index(name) for name in columns]


def decode_csv(text: str | bytes, signature: dict[str, Any]) -> np.ndarray:
    """A CSV body with a header row, parsed one record at a time into a float64 batch.

    At most ``MODELYARD_PREDICT_MAX_ROWS`` rows and the model's feature count (or
    ``modelkit.inputs.MAX_COLUMNS``) columns are parsed: the first record past either limit is a 400,
    and memory stays within one array of the rows allowed (bounded again by the body: every value
    takes at least two characters).
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):  # an empty body parses to an empty form
        text = ""
    max_rows, max_columns = _max_rows(), column_limit(signature)
    reader = csv.reader(_lines(text, max_columns))
    try:
        header = next(reader, None)
        if not header:
            raise _bad("The CSV body is empty: send a header row, then one row per prediction")
        order = _header_order(header, (signature.get("inputs") or {}).get("columns"))
        width = len(header)
        if width > max_columns:
            raise _bad(f"The CSV header has {width} columns; the limit is {max_columns}", "too_many_columns")
        # Rows the body can hold at most: each value takes a character and a separator.
        capacity = min(max_rows, max(1, (len(text) + 1) // (2 * width)))
        batch, count = np.empty((capacity, width), dtype=np.float64), 0
        for row in reader:
            if count == max_rows:
                raise _bad(f"The CSV body has more than {max_rows} rows; the limit is {max_rows}", "too_many_rows")
            if len(row) != width:
                raise _bad(f"CSV row {count + 1} has {len(row)} values for {width} header columns")
            if count == len(batch):  # cannot happen with the capacity above; kept for safety
                batch = np.resize(batch, (min(max_rows, 2 * len(batch)), width))
            try:
                batch[count] = [float(cell) for cell in row]
            except ValueError:
                raise _bad("CSV values must be numbers", "wrong_type") from None
            count += 1
    except csv.Error as exc:
        raise _bad(f"Malformed CSV: {exc}") from None
    batch = batch[:count]
    if order is not None:
        batch = batch[:, order]
    return parse_inputs(batch, signature, max_rows, max_columns)


def encode(outputs: dict[str, Any], *, model: str, version: int, body: Any) -> dict[str, Any]:
    for name in _PRIMARY:
        if name in outputs:
            return {"predictions": outputs[name]}
    return {"predictions": outputs}
