"""Inputs: what a job reads. Inspected before anything is kept; saved only once the job is sure."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File

from batch.files import input_key
from batch.models import BatchInput
from batch.tables import TableError
from batch.tables.inspect import TableInfo, inspect_table
from core.errors import ModelyardError
from registry.artifacts import artifact_save, file_sha256
from registry.uploads import HashedUploadedFile

# Output columns the job writes itself; an id column of that name would be ambiguous.
RESERVED = ("row",)


@dataclass
class InputFile:
    """A file to register: an HTTP upload (moved into storage) or a local file (copied)."""

    path: Path
    name: str
    sha256: str
    size: int
    upload: HashedUploadedFile | None = None

    @classmethod
    def from_upload(cls, upload: HashedUploadedFile) -> "InputFile":
        return cls(Path(upload.temporary_file_path()), upload.name or "", upload.sha256, upload.size, upload)

    @classmethod
    def from_path(cls, path: Path) -> "InputFile":
        return cls(path, path.name, file_sha256(path), path.stat().st_size)

    def save(self, key: str) -> None:
        if self.upload is not None:
            artifact_save(key, self.upload)
            return
        with self.path.open("rb") as handle:
            artifact_save(key, File(handle, name=self.name))


def input_inspect(source: InputFile, declared: str | None) -> TableInfo:
    """Format, columns, rows and chunk plan; a file that cannot be an input is a 400 naming why."""
    if source.size == 0:
        raise ModelyardError("The uploaded file is empty", field="file", code="empty_input")
    try:
        return inspect_table(source.path, declared, settings.MODELYARD_BATCH_CHUNK_ROWS)
    except TableError as exc:
        raise ModelyardError(exc.message, field=exc.field, code=exc.code) from None


def feature_columns(columns: list[str], not_numeric: dict[str, str], signature: dict[str, Any],
                    id_column: str) -> list[str]:
    """The input's columns the model reads, in the model's order, or a 400 naming what does not fit."""
    spec = signature.get("inputs") or {}
    names, features = spec.get("columns"), spec.get("features")
    if id_column and id_column not in columns:
        raise ModelyardError(f"{id_column!r} is not a column of the input; it has {columns[:20]}",
                             field="id_column", code="missing_columns")
    if id_column in RESERVED:
        raise ModelyardError(f"The output has a column {id_column!r} of its own; rename the id column",
                             field="id_column")
    if names:
        missing = [name for name in names if name not in columns]
        if missing:
            raise ModelyardError(f"The input lacks the model's columns {missing[:20]}", field="file",
                                 code="missing_columns")
        chosen = list(names)
    else:
        chosen = [name for name in columns if name != id_column]
        if features is not None and len(chosen) != features:
            besides, hint = (" besides the id column", "") if id_column else ("", "; name an id column in id_column")
            raise ModelyardError(f"The input has {len(chosen)} columns{besides}; the model takes {features}{hint}",
                                 field="file", code="wrong_feature_count")
    wrong = [f"{name} ({not_numeric[name]})" for name in chosen if name in not_numeric]
    if wrong:
        raise ModelyardError(f"Feature columns must hold numbers: {wrong[:20]}", field="file", code="wrong_type")
    return chosen


def input_new(*, source: InputFile, info: TableInfo, team_id: int, actor: Any) -> BatchInput:
    """The row for a new input; its file is saved by the caller before the row is inserted."""
    row = BatchInput(team_id=team_id, format=info.format, original_filename=source.name[:255],
                     sha256=source.sha256, size_bytes=source.size, columns=info.columns,
                     rows_total=info.rows_total, plan=info.plan, created_by=actor)
    row.storage_key = input_key(row.uuid, info.format)
    return row
