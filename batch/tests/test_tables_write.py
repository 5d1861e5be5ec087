"""Parts and outputs are hashed as they are written: the recorded sha256 is the file's own."""

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batch.tables.write import PART_EXTENSIONS, PartWriter, assemble, output_table


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table(first: int, count: int) -> pa.Table:
    rows = np.arange(first, first + count, dtype=np.int64)
    return output_table(rows, pa.array([f"id-{i}" for i in rows]), "id",
                        {"labels": rows % 2, "probabilities_0": rows / 1000.0})


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_parts_and_the_assembled_output_carry_their_own_sha256(tmp_path: Path, fmt: str) -> None:
    parts = []
    for index, (first, count) in enumerate([(1, 700), (701, 5), (706, 300)]):
        part = tmp_path / f"part-{index}.{PART_EXTENSIONS[fmt]}"
        writer = PartWriter(fmt, part)
        writer.write(_table(first, count - 2))
        writer.write(_table(first + count - 2, 2))  # two batches in one part
        assert writer.close() == _sha256(part)
        parts.append(part)
    target = tmp_path / f"output.{fmt}"
    assert assemble(fmt, parts, writer.columns, target) == _sha256(target)
    if fmt == "parquet":
        table = pq.read_table(target)
        assert table.column("row").to_pylist() == list(range(1, 1006))
        assert table.column("id").to_pylist()[-1] == "id-1005"
    elif fmt == "csv":
        lines = target.read_bytes().splitlines()
        assert lines[0] == b"row,id,labels,probabilities_0" and len(lines) == 1006
    else:
        assert len(target.read_bytes().splitlines()) == 1005


def test_an_output_without_rows_is_still_a_parquet_file_and_hashed(tmp_path: Path) -> None:
    target = tmp_path / "output.parquet"
    assert assemble("parquet", [], [], target) == _sha256(target)
    assert pq.read_table(target).num_rows == 0
