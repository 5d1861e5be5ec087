"""Read one chunk of an input: only its byte range or row groups, in batches of bounded size.

Each batch holds the rows that parsed, numbered by their place in the input (1-based data rows),
their feature columns as Arrow arrays, the id column if any, and the problems found on the way
(rows that did not parse at all carry no position; cells that are not numbers carry theirs).
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkSpec:
    row_start: int
    rows: int
    start: int
    end: int


@dataclass
class Problem:
    row: int
    code: str
    message: str
    column: str | None = None
    position: int | None = None  # index in the batch; None for a row that did not parse at all


@dataclass
class Batch:
    rows: np.ndarray
    columns: dict[str, pa.Array]
    ids: pa.Array | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    """Which columns a job reads: the model's features in the model's order, and the id column."""

    columns: list[str]
    features: list[str]
    id_column: str = ""

    @property
    def wanted(self) -> list[str]:
        extra = [self.id_column] if self.id_column and self.id_column not in self.features else []
        return [*self.features, *extra]


def read_chunk(fmt: str, path: Path, specs: list[ChunkSpec], layout: Layout, batch_rows: int) -> Iterator[Batch]:
    """The batches of a task's consecutive chunks: a text chunk is parsed whole, a run of Parquet row
    groups is read through one open file in batches of ``batch_rows``."""
    if fmt == "parquet":
        whole = ChunkSpec(specs[0].row_start, sum(spec.rows for spec in specs), specs[0].start, specs[-1].end)
        yield from _parquet(path, whole, layout, batch_rows)
        return
    for spec in specs:
        yield _csv(path, spec, layout) if fmt == "csv" else _jsonl(path, spec, layout)


def _slice(path: Path, spec: ChunkSpec) -> pa.Buffer:
    """The chunk's bytes as a view of the memory-mapped file: no copy, and no fresh pages to fault in."""
    with pa.memory_map(str(path)) as source:
        source.seek(spec.start)
        return source.read_buffer(spec.end - spec.start)


# --- Parquet: whole row groups, streamed --------------------------------------------------------

def _parquet(path: Path, spec: ChunkSpec, layout: Layout, batch_rows: int) -> Iterator[Batch]:
    # No pre-buffering and a small read buffer: memory follows the batch, not the row group.
    source = pq.ParquetFile(path, pre_buffer=False, buffer_size=1024 * 1024)
    first = spec.row_start + 1
    for batch in source.iter_batches(batch_size=batch_rows, row_groups=range(spec.start, spec.end),
                                     columns=layout.wanted, use_threads=False):
        ids = batch.column(layout.id_column) if layout.id_column else None
        yield Batch(np.arange(first, first + batch.num_rows, dtype=np.int64),
                    {name: batch.column(name) for name in layout.features}, ids)
        first += batch.num_rows


# --- CSV: the chunk's bytes, parsed as numbers; a bad value sends the chunk to the slow path ----

def _csv(path: Path, spec: ChunkSpec, layout: Layout) -> Batch:
    data = _slice(path, spec)
    try:
        table, skipped = _parse_csv(data, layout, pa.float64())
        converted: dict[str, tuple[pa.Array, list[tuple[int, str]]]] = {}
    except pa.ArrowInvalid:  # a value that is not a number: read text, then find the cells
        table, skipped = _parse_csv(data, layout, pa.string())
        converted = {name: _numbers(table.column(name)) for name in layout.features}
    rows = _line_rows(spec, skipped, table.num_rows)
    problems = [Problem(spec.row_start + number, "wrong_field_count",
                        f"The line has {actual} fields; the header has {len(layout.columns)}")
                for number, actual in skipped]
    columns = {}
    for name in layout.features:
        column, bad = converted.get(name) or (table.column(name).combine_chunks(), [])
        columns[name] = column
        problems += [Problem(int(rows[i]), "not_a_number", f"Column {name!r} holds {text!r}, not a number",
                             name, i) for i, text in bad]
    ids = table.column(layout.id_column).combine_chunks() if layout.id_column else None
    return Batch(rows, columns, ids, _empty_lines(table, rows) + problems)


def _empty_lines(table: pa.Table, rows: np.ndarray) -> list[Problem]:
    """A blank line parses as a row of nulls: say so, rather than name its first column."""
    if not table.num_columns or not all(column.null_count for column in table.columns):
        return []
    empty = np.logical_and.reduce([column.is_null().to_numpy(zero_copy_only=False) for column in table.columns])
    return [Problem(int(rows[i]), "empty_line", "The line has no values", None, int(i)) for i in np.flatnonzero(empty)]


def _parse_csv(data: pa.Buffer, layout: Layout, kind: pa.DataType) -> tuple[pa.Table, list[tuple[int, int]]]:
    skipped: list[tuple[int, int]] = []

    def invalid(row: pcsv.InvalidRow) -> str:
        skipped.append((row.number or 0, row.actual_columns))
        return "skip"

    types = {name: kind for name in layout.features}
    if layout.id_column:
        types[layout.id_column] = pa.string()
    table = pcsv.read_csv(
        pa.BufferReader(data),
        # 1 MiB blocks: parsing stays in the CPU's caches (twice as fast as one block per chunk)
        read_options=pcsv.ReadOptions(column_names=layout.columns, use_threads=False, block_size=1 << 20),
        parse_options=pcsv.ParseOptions(invalid_row_handler=invalid, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(column_types=types, include_columns=layout.wanted, null_values=[""],
                                            strings_can_be_null=True, quoted_strings_can_be_null=False))
    return table, skipped


def _line_rows(spec: ChunkSpec, skipped: list[tuple[int, int]], parsed: int) -> np.ndarray:
    """Data row numbers of the parsed lines: every line of the chunk but those skipped."""
    lines = np.arange(1, spec.rows + 1, dtype=np.int64)
    if skipped:
        lines = lines[~np.isin(lines, [number for number, _ in skipped])]
    if len(lines) != parsed:  # a quoted field spanning lines: number the records as they come
        logger.warning("chunk at row %s: %s records parsed, %s lines planned", spec.row_start, parsed, len(lines))
        lines = np.arange(1, parsed + 1, dtype=np.int64)
    return spec.row_start + lines


def _numbers(column: pa.ChunkedArray) -> tuple[pa.Array, list[tuple[int, str]]]:
    """Text to float64; cells that are no number become null and are listed with their text."""
    text = column.combine_chunks()
    try:
        return pc.cast(text, pa.float64()), []
    except pa.ArrowInvalid:
        pass
    values, bad = [], []
    for position, cell in enumerate(text.to_pylist()):
        try:
            values.append(None if cell is None else float(cell))
        except ValueError:
            values.append(None)
            bad.append((position, cell[:40]))
    return pa.array(values, pa.float64()), bad


# --- JSON Lines: one object per line ----------------------------------------------------------

def _jsonl(path: Path, spec: ChunkSpec, layout: Layout) -> Batch:
    rows: list[int] = []
    values: dict[str, list[object]] = {name: [] for name in layout.features}
    ids: list[str | None] = []
    problems: list[Problem] = []
    for number, line in enumerate(_slice(path, spec).to_pybytes().split(b"\n")[:spec.rows], start=spec.row_start + 1):
        record = _object(line, number, problems)
        if record is None:
            continue
        position = len(rows)
        rows.append(number)
        for name in layout.features:
            values[name].append(_number(record.get(name), name, number, position, problems))
        if layout.id_column:
            identity = record.get(layout.id_column)
            ids.append(None if identity is None else str(identity))
    return Batch(np.asarray(rows, dtype=np.int64),
                 {name: pa.array(column, pa.float64()) for name, column in values.items()},
                 pa.array(ids, pa.string()) if layout.id_column else None, problems)


def _object(line: bytes, number: int, problems: list[Problem]) -> dict | None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        message = "The line is empty" if not line.strip() else "The line is not valid JSON"
        problems.append(Problem(number, "invalid_json", message))
        return None
    if not isinstance(record, dict):
        problems.append(Problem(number, "invalid_json", "The line is not a JSON object"))
        return None
    return record


def _number(value: object, name: str, number: int, position: int, problems: list[Problem]) -> float | None:
    if value is None:
        return None  # a missing value: reported with the others when the batch becomes a matrix
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = orjson.dumps(value).decode()[:40]
        problems.append(Problem(number, "not_a_number", f"Column {name!r} holds {shown}, not a number", name, position))
        return None
    return float(value)
