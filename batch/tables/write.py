"""Output parts and their assembly.

Parts are written in a form that assembles cheaply: CSV without a header and JSON Lines are
concatenated byte for byte; Parquet parts are encoded by their chunks, on every worker side by side, and
joined row group by row group without decoding (parquet_join.py). Errors are JSON Lines in every case.
"""

import csv
import hashlib
import io
import logging
import os
import shutil
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from batch.tables.parquet_join import MAGIC, NotJoinable, join_parquet
from batch.tables.read import Problem

logger = logging.getLogger(__name__)

EXTENSIONS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}
MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv", "jsonl": "application/x-ndjson"}


class OutputShapeError(ValueError):
    """The model answered with a different number of rows than it was given."""


def output_columns(outputs: dict[str, Any], count: int) -> dict[str, Any]:
    """The model's named outputs as flat columns: a 2-D output ``probabilities`` becomes
    ``probabilities_0``, ``probabilities_1``...; per-row maps (ONNX ZipMap) one column per key."""
    columns: dict[str, Any] = {}
    for name, value in outputs.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for key in value[0]:
                columns[f"{name}_{key}"] = np.asarray([row.get(key) for row in value], dtype=np.float64)
            continue
        array = np.asarray(value)
        if array.ndim == 0 or len(array) != count:
            raise OutputShapeError(f"The model answered {name!r} with {array.shape[0] if array.ndim else 0} "
                                   f"rows for {count} inputs")
        if array.ndim == 1:
            columns[name] = array
        else:
            flat = array.reshape(count, -1)
            columns.update({f"{name}_{i}": flat[:, i] for i in range(flat.shape[1])})
    return columns


def output_table(rows: np.ndarray, ids: pa.Array | None, id_name: str, columns: dict[str, Any]) -> pa.Table:
    data: dict[str, Any] = {"row": pa.array(rows, pa.int64())}
    if ids is not None:
        data[id_name] = ids
    for name, values in columns.items():
        data[name] = pa.array(values)
    return pa.table(data)


# A Parquet part keeps its batches until this much Arrow data waits, then writes them as one row group:
# a task's part is one row group (8 chunks of this bench's output: 13 MB), and its footer, which the
# serial join reads and writes back, an eighth of what a row group per batch made it (4-6 ms of the
# join's 15 for two parts). Memory stays bounded by this, whatever the input's size.
ROW_GROUP_BYTES = 64 * 1024 * 1024


class PartWriter:
    """One task's output, appended batch by batch to a local file."""

    def __init__(self, fmt: str, path: Path) -> None:
        self.fmt, self.path, self.rows, self.columns = fmt, path, 0, []
        self._file: BinaryIO = io.BytesIO() if fmt == "parquet" else path.open("wb")  # Parquet: arrow's own file
        self._parquet: pq.ParquetWriter | None = None
        self._waiting: list[pa.Table] = []
        self._waiting_bytes = 0

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if not self.columns:
            self.columns = table.column_names
        self.rows += table.num_rows
        if self.fmt == "parquet":
            if self._parquet is None:
                self._parquet = parquet_writer(self.path, table.schema)
            schema = self._parquet.schema
            self._waiting.append(table.cast(schema) if table.schema != schema else table)
            self._waiting_bytes += table.nbytes
            if self._waiting_bytes >= ROW_GROUP_BYTES:
                self._flush()
        elif self.fmt == "csv":
            pcsv.write_csv(table, self._file, pcsv.WriteOptions(include_header=False))
        else:
            self._file.write(b"".join(orjson.dumps(record) + b"\n" for record in table.to_pylist()))

    def _flush(self) -> None:
        if self._parquet is None or not self._waiting:
            return
        group = pa.concat_tables(self._waiting)  # no copy: each column's batches, written one after another
        self._parquet.write_table(group, row_group_size=len(group))
        self._waiting, self._waiting_bytes = [], 0

    def close(self) -> None:
        try:
            self._flush()
        finally:
            if self._parquet is not None:
                self._parquet.close()
            self._file.close()


def write_problems(path: Path, problems: Iterable[Problem], ids: dict[int, Any] | None = None) -> int:
    """The errors part: one JSON line per refused row, in input order."""
    ordered = sorted(problems, key=lambda p: p.row)
    with path.open("wb") as handle:
        for problem in ordered:
            record = {"row": problem.row, "column": problem.column, "code": problem.code, "message": problem.message}
            if ids is not None:
                record["id"] = ids.get(problem.row)
            handle.write(orjson.dumps(record) + b"\n")
    return len(ordered)


def csv_header(columns: list[str]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(columns)
    return text.getvalue().encode()


_hasher: tuple[int, ThreadPoolExecutor] | None = None
_AHEAD = 4  # blocks the copy may run ahead of the hashing


def _hashing_thread() -> ThreadPoolExecutor:
    """One thread per process, made in the process that uses it (a prefork child's own): the output is
    hashed on the other core while it is copied (hashlib lets go of the GIL for large blocks). The job's
    other tasks are done by then, so that core is idle."""
    global _hasher
    if _hasher is None or _hasher[0] != os.getpid():
        _hasher = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="batch-hash"))
    return _hasher[1]


class HashedFile:
    """A file written front to back whose sha256 is known once it is written: not read back to hash it.
    Blocks are hashed in order on the hashing thread while the next ones are read and written."""

    def __init__(self, path: Path) -> None:
        self._file, self._digest = path.open("wb"), hashlib.sha256()
        self._pending: deque[Future[None]] = deque()
        self._thread = _hashing_thread()

    def write(self, data: bytes) -> int:
        while self._pending and (self._pending[0].done() or len(self._pending) >= _AHEAD):
            self._pending.popleft().result()  # at most _AHEAD blocks wait: memory stays at a few blocks
        self._pending.append(self._thread.submit(self._digest.update, bytes(data)))  # bytes: never changes
        return self._file.write(data)

    def __enter__(self) -> "HashedFile":
        return self

    def __exit__(self, *_: object) -> None:
        self._file.close()

    def hexdigest(self) -> str:
        while self._pending:
            self._pending.popleft().result()
        return self._digest.hexdigest()


def assemble(fmt: str, parts: list[Path], columns: list[str], target: Path) -> str | None:
    """Parts in the order given, into one output file; memory stays at one part. Returns its sha256
    when the file was hashed as it was written (None: whoever keeps it hashes it)."""
    if fmt == "parquet":
        return _assemble_parquet(parts, target)
    with HashedFile(target) as out:
        if fmt == "csv" and columns:
            out.write(csv_header(columns))
        concatenate(parts, out)
    return out.hexdigest()


def concatenate(parts: list[Path], out: HashedFile) -> None:
    for part in parts:
        with part.open("rb") as source:
            shutil.copyfileobj(source, out, 1024 * 1024)


def parquet_writer(target: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """Dictionary encoding only where values repeat (labels, ids): tried on a column of floats or row
    numbers it is given up on, after costing more than the rest of the encoding together. Row numbers
    mostly count up by one: delta-encoded they take a few bits a row instead of 8 bytes (a million-row
    output 8 MB instead of 12, and encoded in a fifth less time)."""
    repeating = [f.name for f in schema if f.name != "row" and not pa.types.is_floating(f.type)]
    deltas = {"row": "DELTA_BINARY_PACKED"} if "row" in schema.names else None
    return pq.ParquetWriter(target, schema, use_dictionary=repeating, column_encoding=deltas)


def _assemble_parquet(parts: list[Path], target: Path) -> str | None:
    if not parts:  # no valid row at all: a file with no rows, still a Parquet file
        pq.write_table(pa.table({"row": pa.array([], pa.int64())}), target)
        return None
    try:
        with HashedFile(target) as out:
            join_parquet(parts, out)
        return out.hexdigest()
    except NotJoinable as exc:  # parts of another schema (or of an older release): encoded again
        logger.info("output parts are encoded again: %s", exc)
    _encode_parquet(parts, target)
    return None


def _encode_parquet(parts: list[Path], target: Path) -> None:
    """Each part decoded and encoded into the output, cast to the first part's schema; memory stays at
    one row group."""
    writer: pq.ParquetWriter | None = None
    try:
        for part in parts:
            for batch in _part_batches(part):
                if writer is None:
                    writer = parquet_writer(target, batch.schema)
                table = pa.Table.from_batches([batch])
                writer.write_table(table.cast(writer.schema) if table.schema != writer.schema else table)
    finally:
        if writer is not None:
            writer.close()


def _part_batches(part: Path) -> Iterable[pa.RecordBatch]:
    with part.open("rb") as handle:
        parquet = handle.read(4) == MAGIC
    if parquet:
        yield from pq.ParquetFile(part).iter_batches(batch_size=1 << 20)
        return
    with pa.memory_map(str(part)) as source:  # an Arrow IPC stream: parts of releases before 2026-12
        yield from pa.ipc.open_stream(source)
