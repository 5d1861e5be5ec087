"""Parquet parts joined byte for byte (batch/tables/parquet_join.py), checked by pyarrow reading the result."""

import hashlib
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batch.tables import parquet_join
from batch.tables.parquet_join import NotJoinable, decode_footer, encode_footer, join_parquet, read_footer
from batch.tables.write import assemble, parquet_writer


def part_table(start: int, rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = [None if i % 7 == 0 else f"id-{i}" for i in range(start, start + rows)]
    return pa.table({"row": pa.array(np.arange(start, start + rows) + 1, pa.int64()), "id": pa.array(ids, pa.string()),
                     "label": pa.array(rng.integers(0, 3, rows), pa.int64()),
                     "probability": pa.array(rng.random(rows), pa.float32())})


def write_part(path: Path, tables: list[pa.Table], **options: object) -> Path:
    writer = parquet_writer(path, tables[0].schema) if not options else pq.ParquetWriter(path, tables[0].schema,
                                                                                          **options)
    for table in tables:
        writer.write_table(table, row_group_size=len(table))
    writer.close()
    return path


def parts_of(tmp_path: Path, sizes: list[list[int]], **options: object) -> tuple[list[Path], pa.Table]:
    """Parts with ``sizes[i]`` rows in each row group of part i, and what joining them must give."""
    parts, tables, start = [], [], 0
    for i, groups in enumerate(sizes):
        chunk = []
        for rows in groups:
            chunk.append(part_table(start, rows, seed=start))
            start += rows
        parts.append(write_part(tmp_path / f"part-{i}.parquet", chunk, **options))
        tables += chunk
    return parts, pa.concat_tables(tables)


def joined(tmp_path: Path, parts: list[Path]) -> Path:
    target = tmp_path / "joined.parquet"
    with target.open("wb") as out:
        join_parquet(parts, out)
    return target


@pytest.mark.parametrize("sizes", [[[5]], [[5, 3], [4], [1, 1, 1]], [[100]] * 20, [[3] * 16, [2] * 17]])
def test_joined_parts_read_back_as_the_concatenated_tables(tmp_path, sizes):
    parts, expected = parts_of(tmp_path, sizes)
    source = pq.ParquetFile(joined(tmp_path, parts))
    assert source.read().equals(expected)
    again = tmp_path / "assembled.parquet"  # as the finalize step joins them: hashed as it is written
    assert assemble("parquet", parts, [], again) == hashlib.sha256(again.read_bytes()).hexdigest()
    assert source.metadata.num_rows == expected.num_rows
    assert source.metadata.num_row_groups == sum(len(groups) for groups in sizes)
    start = 0
    for index in range(source.metadata.num_row_groups):  # each row group found by its own moved offsets
        group = source.read_row_group(index)
        assert group.equals(expected.slice(start, group.num_rows))
        start += group.num_rows


def test_statistics_move_with_their_row_groups(tmp_path):
    parts, expected = parts_of(tmp_path, [[50, 50], [30], [20, 10]], use_dictionary=["label"])
    target = joined(tmp_path, parts)
    assert pq.read_table(target).equals(expected)
    # Filters use the statistics of each row group: rows 101-130 are the second part's only row group.
    assert pq.read_table(target, filters=[("row", ">", 100), ("row", "<=", 130)]).equals(expected.slice(100, 30))


def test_parts_with_a_page_index_are_encoded_again(tmp_path):
    """An offset index holds absolute page offsets outside the footer, which a join does not move."""
    parts, expected = parts_of(tmp_path, [[50, 50], [30]], write_page_index=True)
    with pytest.raises(NotJoinable, match="page index"):
        join_parquet(parts, io.BytesIO())
    target = tmp_path / "out.parquet"
    assemble("parquet", parts, [], target)
    assert pq.read_table(target).equals(expected)


def test_a_footer_that_cannot_be_read_is_not_joinable(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1" + b"\x19\x2c" + (2).to_bytes(4, "little") + b"PAR1")  # a list cut short
    with pytest.raises(NotJoinable), path.open("rb") as handle:
        read_footer(handle)


def test_the_footer_codec_writes_back_what_pyarrow_wrote(tmp_path):
    parts, _ = parts_of(tmp_path, [[4, 4, 4]], write_page_index=True)
    with parts[0].open("rb") as handle:
        start, footer = read_footer(handle)
        handle.seek(start)
        raw = handle.read()[:-8]
    assert encode_footer(footer) == raw
    assert decode_footer(encode_footer(footer)) == footer


def test_parts_of_another_schema_are_refused_before_anything_is_written(tmp_path):
    """The last part differs: refused before the first part's bytes are copied."""
    first = write_part(tmp_path / "a.parquet", [part_table(0, 4, 0)])
    other = part_table(4, 4, 1)
    wider = other.set_column(3, "probability", other.column(3).cast(pa.float64()))
    second = write_part(tmp_path / "b.parquet", [wider])
    out = io.BytesIO()
    with pytest.raises(NotJoinable):
        join_parquet([first, second], out)
    assert out.getvalue() == b""


def test_assembly_encodes_parts_it_cannot_join(tmp_path):
    """Another schema (cast to the first part's) and an Arrow IPC part of an older release."""
    first = write_part(tmp_path / "a.parquet", [part_table(0, 4, 0)])
    other = part_table(4, 3, 1)
    wider = other.set_column(3, "probability", other.column(3).cast(pa.float64()))
    second = write_part(tmp_path / "b.parquet", [wider])
    third = tmp_path / "c.arrows"
    with pa.OSFile(str(third), "wb") as sink, pa.ipc.new_stream(sink, other.schema) as stream:
        stream.write_table(part_table(7, 2, 2))
    target = tmp_path / "out.parquet"
    assert assemble("parquet", [first, second, third], [], target) is None  # encoded by arrow: the keeper hashes it
    table = pq.read_table(target)
    assert table.column("row").to_pylist() == list(range(1, 10))
    assert table.schema.field("probability").type == pa.float32()


def test_not_parquet_is_not_joinable(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(NotJoinable), path.open("rb") as handle:
        read_footer(handle)


def test_row_group_offsets_move_and_ordinals_are_renumbered():
    """pyarrow writes no ordinals (other writers do); an i16 cannot hold one past 32,767: it is left out."""
    meta = [[9, parquet_join.I64, 120], [11, parquet_join.I64, 0], [4, parquet_join.I64, 500]]
    column = [[2, parquet_join.I64, 130], [3, parquet_join.STRUCT, meta]]
    group = [[1, parquet_join.LIST, [parquet_join.STRUCT, [column]]], [5, parquet_join.I64, 100],
             [7, parquet_join.I16, 0]]
    parquet_join._move_group(group, 1000, 3)
    assert [field[2] for field in meta] == [1120, 0, 500]  # an unset (0) offset and a size stay
    assert column[0][2] == 1130 and group[1:] == [[5, parquet_join.I64, 1100], [7, parquet_join.I16, 3]]
    parquet_join._move_group(group, 0, 40_000)
    assert [field[0] for field in group] == [1, 5]


def test_a_forked_worker_hashes_on_a_thread_of_its_own(tmp_path):
    """The hashing thread belongs to the process that made it: a prefork child makes its own."""
    import os
    import signal

    from batch.tables.write import HashedFile

    data = os.urandom(3 * 1024 * 1024)
    with HashedFile(tmp_path / "parent.bin") as out:  # the parent's thread exists before the fork
        out.write(data)
    assert out.hexdigest() == hashlib.sha256(data).hexdigest()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports by its exit code, and never returns to pytest)
        code = 1
        try:
            signal.alarm(20)  # the parent's thread does not exist here: waiting on it would never end
            with HashedFile(tmp_path / "child.bin") as out:
                out.write(data[:1000])
                out.write(data)
            code = 0 if out.hexdigest() == hashlib.sha256(data[:1000] + data).hexdigest() else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_the_copy_runs_at_most_a_few_blocks_ahead_of_the_hashing(tmp_path):
    """Blocks wait for the hashing thread in memory: a few at most, whatever the file's size."""
    import os

    from batch.tables import write

    blocks = [os.urandom(1024 * 1024) for _ in range(4)]
    with write.HashedFile(tmp_path / "out.bin") as out:
        for block in blocks * 8:
            out.write(block)
            assert len(out._pending) <= write._AHEAD
    assert out.hexdigest() == hashlib.sha256(b"".join(blocks * 8)).hexdigest()
