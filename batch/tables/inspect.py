"""What an input file is: its format (declared or detected from the bytes), its columns, its rows
and its chunk plan. Reads the head of the file and, for text formats, streams it once to count
records; nothing is held whole in memory.
"""

import io
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from batch.tables.errors import TableError
from batch.tables.plan import Plan, plan_row_groups, plan_text

FORMATS = ("csv", "parquet", "jsonl")
MAGIC = b"PAR1"
BOM = b"\xef\xbb\xbf"
MAX_HEADER_BYTES = 1024 * 1024
MAX_COLUMNS = 10_000


@dataclass
class TableInfo:
    format: str
    columns: list[str]
    rows_total: int
    plan: Plan
    # Parquet only: columns whose type is not a number (text formats find bad values row by row).
    not_numeric: dict[str, str] = field(default_factory=dict)


def detect_format(path: Path, declared: str | None) -> str:
    """Parquet by its magic bytes at both ends; text is JSON Lines if it starts with '{', else CSV."""
    with path.open("rb") as handle:
        head = handle.read(4096)
        handle.seek(max(0, path.stat().st_size - 4))
        tail = handle.read(4)
    if head[:4] == MAGIC and tail == MAGIC:
        detected = "parquet"
    elif declared == "parquet" or MAGIC in head[:4]:
        raise TableError("The file is not Parquet: it does not begin and end with PAR1", code="format_mismatch")
    else:
        _require_text(head)
        detected = "jsonl" if head.removeprefix(BOM).lstrip().startswith(b"{") else "csv"
    if declared and declared != detected:
        raise TableError(f"The file was declared {declared} but its bytes are {detected}", code="format_mismatch",
                         field="input_format")
    return detected


def _require_text(head: bytes) -> None:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the sample
            raise TableError("The file is not CSV, Parquet or JSON Lines (it is not UTF-8 text)",
                             code="unsupported_format") from None
    if b"\x00" in head:
        raise TableError("The file is not CSV, Parquet or JSON Lines (it holds NUL bytes)", code="unsupported_format")


def inspect_table(path: Path, declared: str | None, chunk_rows: int) -> TableInfo:
    fmt = detect_format(path, declared)
    try:
        info = {"csv": _inspect_csv, "jsonl": _inspect_jsonl, "parquet": _inspect_parquet}[fmt](path, chunk_rows)
    except (pa.ArrowException, ValueError, OSError) as exc:
        if isinstance(exc, TableError):
            raise
        raise TableError(f"The file cannot be read as {fmt}: {exc}", code="unreadable") from None
    if info.rows_total == 0:
        raise TableError("The input has no data rows", code="empty_input")
    _check_columns(info.columns)
    return info


def _check_columns(columns: list[str]) -> None:
    if len(columns) > MAX_COLUMNS:
        raise TableError(f"The input has {len(columns)} columns; the limit is {MAX_COLUMNS}", code="too_many_columns")
    if any(not name or "\x00" in name for name in columns):
        raise TableError("Every column needs a name (without NUL characters)", code="bad_header")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise TableError(f"Column names must be distinct; repeated: {repeated[:5]}", code="bad_header")


def _first_line(path: Path) -> tuple[bytes, int]:
    """The first line without its newline, and where the line after it starts."""
    with path.open("rb") as handle:
        head = handle.read(MAX_HEADER_BYTES + 3)
    skip = len(BOM) if head.startswith(BOM) else 0
    newline = head.find(b"\n", skip)
    if newline < 0:
        if len(head) > MAX_HEADER_BYTES:
            raise TableError(f"The first line is longer than {MAX_HEADER_BYTES} bytes", code="bad_header")
        return head[skip:], len(head)
    return head[skip:newline], newline + 1


def _inspect_csv(path: Path, chunk_rows: int) -> TableInfo:
    header, data_start = _first_line(path)
    if not header.strip():
        raise TableError("The CSV file has no header row naming its columns", code="bad_header")
    names = pcsv.read_csv(io.BytesIO(header + b"\n"), read_options=pcsv.ReadOptions(use_threads=False)).column_names
    rows, plan = plan_text(path, data_start, chunk_rows, quotes=True)
    return TableInfo("csv", [str(name) for name in names], rows, plan)


def _inspect_jsonl(path: Path, chunk_rows: int) -> TableInfo:
    line, _ = _first_line(path)
    try:
        first = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise TableError("The first line is not valid JSON", code="bad_header") from None
    if not isinstance(first, dict):
        raise TableError("JSON Lines input needs one JSON object per line", code="bad_header")
    with path.open("rb") as handle:
        start = len(BOM) if handle.read(len(BOM)) == BOM else 0
    rows, plan = plan_text(path, start, chunk_rows, quotes=False)
    return TableInfo("jsonl", [str(key) for key in first], rows, plan)


def _inspect_parquet(path: Path, chunk_rows: int) -> TableInfo:
    metadata = pq.ParquetFile(path).metadata
    schema = metadata.schema.to_arrow_schema()
    rows, plan = plan_row_groups([metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)],
                                 chunk_rows)
    return TableInfo("parquet", list(schema.names), rows, plan, not_numeric={
        f.name: str(f.type) for f in schema if not _numeric(f.type)})


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind) or \
        pa.types.is_null(kind)
