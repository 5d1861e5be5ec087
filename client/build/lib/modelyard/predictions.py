"""Model URIs, request bodies from rows, and answers as numpy / pandas when they are installed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from modelyard.errors import UsageError

_URI = re.compile(r"^(?:models:/)?(?P<name>[a-z0-9][a-z0-9._-]{0,99})(?:@(?P<alias>[a-z][a-z0-9_-]{0,49})"
                  r"|/(?P<version>[1-9][0-9]*))$")


@dataclass(frozen=True)
class ModelRef:
    """``name@alias``, ``name/3``, ``models:/name@alias`` or ``models:/name/3``."""

    name: str
    alias: str | None = None
    version: int | None = None

    @classmethod
    def parse(cls, uri: str) -> ModelRef:
        match = _URI.match(uri.strip())
        if match is None:
            raise UsageError(f"{uri!r} is no model URI: use name@alias, name/3, models:/name@alias or "
                             "models:/name/3")
        version = match.group("version")
        return cls(match.group("name"), match.group("alias"), int(version) if version else None)

    @property
    def predict_path(self) -> str:
        if self.alias is not None:
            return f"/api/v1/models/{self.name}/aliases/{self.alias}/predict"
        return f"/api/v1/models/{self.name}/versions/{self.version}/predict"

    def __str__(self) -> str:
        return f"{self.name}@{self.alias}" if self.alias is not None else f"{self.name}/{self.version}"


def is_dataframe(rows: Any) -> bool:
    return hasattr(rows, "columns") and hasattr(rows, "to_numpy") and hasattr(rows, "index")


def _plain(values: Any) -> Any:
    return values.tolist() if hasattr(values, "tolist") else values


def inputs_body(rows: Any, columns: list[str] | None) -> dict[str, Any]:
    """The native body: named columns when the model has column names and the rows carry them, else rows.

    ``columns`` is the model's signature's column list (None: the model has none).
    """
    if is_dataframe(rows):
        if columns:
            missing = [c for c in columns if c not in rows.columns]
            if missing:
                raise UsageError(f"The DataFrame lacks the model's columns {missing} (it has {list(rows.columns)})")
            return {"inputs": {c: _plain(rows[c].to_numpy()) for c in columns}}
        return {"inputs": rows.to_numpy().tolist()}
    if isinstance(rows, Mapping):
        return {"inputs": {str(k): _plain(v) for k, v in rows.items()}}
    rows = _plain(rows)
    if not isinstance(rows, list):
        raise UsageError("Rows must be a list of rows, a 2-D array, a DataFrame or a dict of columns")
    if rows and not isinstance(rows[0], list | tuple):
        rows = [rows]  # one row given flat
    return {"inputs": [list(row) for row in rows]}


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


class Prediction(Mapping[str, Any]):
    """An answer: ``prediction["labels"]`` is a numpy array when numpy is installed (else a list)."""

    def __init__(self, body: dict[str, Any], index: Any = None) -> None:
        self.model: str = body.get("model", "")
        self.version: int = body.get("version", 0)
        self.raw: dict[str, Any] = body.get("outputs", {})
        self._index = index
        np = _numpy()
        self._outputs = {k: np.asarray(v) for k, v in self.raw.items()} if np is not None else dict(self.raw)

    def __getitem__(self, name: str) -> Any:
        return self._outputs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._outputs)

    def __len__(self) -> int:
        return len(self._outputs)

    def to_pandas(self) -> Any:
        """One column per output; a 2-D output (probabilities) becomes ``name_0``, ``name_1``, ..."""
        try:
            import pandas as pd
        except ImportError:
            raise UsageError("to_pandas needs pandas: pip install 'modelyard-client[pandas]'") from None
        columns: dict[str, Any] = {}
        for name, values in self.raw.items():
            if values and isinstance(values[0], list):
                for k in range(len(values[0])):
                    columns[f"{name}_{k}"] = [row[k] for row in values]
            else:
                columns[name] = values
        return pd.DataFrame(columns, index=self._index)

    def __repr__(self) -> str:
        return f"Prediction(model={self.model!r}, version={self.version}, outputs={sorted(self.raw)})"
