"""Reading inputs without Django: detection, chunk plans, and every row-level problem with its row."""

from pathlib import Path

import pytest

from batch.tables import TableError
from batch.tables import plan as plan_module
from batch.tables.check import check_batch
from batch.tables.inspect import detect_format, inspect_table
from batch.tables.plan import plan_row_groups, plan_tasks, plan_text, plan_within
from batch.tables.read import ChunkSpec, Layout, read_chunk

SIGNATURE = {"inputs": {"dtype": "float32", "features": 2, "columns": None}, "outputs": ["predictions"]}


def write(tmp_path: Path, data: bytes, name: str = "input") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def records(path: Path, plan: list[list[int]]) -> list[bytes]:
    data = path.read_bytes()
    return [data[start:end] for _, _, start, end in plan]


@pytest.mark.parametrize("block", [3, 7, 1 << 20])
def test_text_is_split_only_where_a_record_ends(tmp_path, monkeypatch, block):
    monkeypatch.setattr(plan_module, "BLOCK", block)  # records and quotes across block boundaries too
    path = write(tmp_path, b'h\n1\n"2\n2"\n3\n"4"",\n4"\n\n5\n6\n\n\n')
    rows, plan = plan_text(path, 2, 2, quotes=True)
    assert rows == 7  # the inner blank line is a record, the trailing ones are not
    assert records(path, plan) == [b'1\n"2\n2"\n', b'3\n"4"",\n4"\n', b"\n5\n", b"6"]
    assert [(first, rows) for first, rows, *_ in plan] == [(0, 2), (2, 2), (4, 2), (6, 1)]


def test_json_lines_ignore_quotes_and_the_last_line_needs_no_newline(tmp_path):
    path = write(tmp_path, b'{"a": "\\""}\n{"a": 1}\n{"a": 2}')
    rows, plan = plan_text(path, 0, 2, quotes=False)
    assert rows == 3 and records(path, plan) == [b'{"a": "\\""}\n{"a": 1}\n', b'{"a": 2}']


def test_parquet_chunks_are_whole_row_groups():
    assert plan_row_groups([4, 4, 4, 10, 1], 8) == (23, [[0, 8, 0, 2], [8, 14, 2, 4], [22, 1, 4, 5]])


@pytest.mark.parametrize(("data", "declared", "code"), [
    (b"\x00\x01\x02binary", None, "unsupported_format"),
    (b"PAR1 truncated", None, "format_mismatch"),
    (b"a,b\n1,2\n", "parquet", "format_mismatch"),
    (b'{"a": 1}\n', "csv", "format_mismatch"),
])
def test_a_file_that_is_not_the_declared_or_detected_format_is_refused(tmp_path, data, declared, code):
    with pytest.raises(TableError) as caught:
        detect_format(write(tmp_path, data), declared)
    assert caught.value.code == code


@pytest.mark.parametrize(("data", "code"), [
    (b"a,b\n", "empty_input"), (b"a,b\n\n\n", "empty_input"), (b"\n1,2\n", "bad_header"),
    (b"a,a\n1,2\n", "bad_header"), (b"{\"a\": 1\n{}\n", "bad_header"),
])
def test_inputs_without_rows_or_with_a_bad_header_are_refused(tmp_path, data, code):
    with pytest.raises(TableError) as caught:
        inspect_table(write(tmp_path, data), None, 10)
    assert caught.value.code == code


def test_a_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    info = inspect_table(write(tmp_path, b"\xef\xbb\xbfa,b\n1,2\n"), None, 10)
    assert info.columns == ["a", "b"] and info.rows_total == 1


def read_all(path: Path, columns: list[str], id_column: str = "id") -> tuple[list, list, list]:
    info = inspect_table(path, None, 3)
    layout = Layout(info.columns, columns, id_column)
    kept, ids, problems = [], [], []
    for task in plan_tasks(info.plan, 2, 10**9):  # tasks of two chunks, each read as a worker reads them
        specs = [ChunkSpec(*piece) for piece in plan_within(info.plan, task)]
        for batch in read_chunk(info.format, path, specs, layout, 3):
            checked = check_batch(batch, layout.features, SIGNATURE)
            kept += batch.rows[checked.keep].tolist()
            ids += batch.ids.take(checked.keep).to_pylist()
            problems += [(p.row, p.code, p.column) for p in checked.problems]
    return kept, ids, sorted(problems)


def test_csv_row_problems_name_their_row_and_the_good_rows_go_on(tmp_path):
    path = write(tmp_path, b'id,a,b\nx1,1,2\nx2,3\n\nx4,"5",6\nx5,abc,1\nx6,1e400,1\nx7,nan,1\nx8,,3\nx9,7,8\n')
    kept, ids, problems = read_all(path, ["a", "b"])
    assert kept == [1, 4, 9] and ids == ["x1", "x4", "x9"]
    assert problems == [(2, "wrong_field_count", None), (3, "empty_line", None), (5, "not_a_number", "a"),
                        (6, "not_finite", None), (7, "not_finite", None), (8, "missing_value", "a")]


def test_json_lines_problems_name_their_line(tmp_path):
    path = write(tmp_path, b'{"id": 1, "a": 1, "b": 2}\n{"id": 2, "a": true, "b": 1}\nnope\n\n'
                           b'{"id": 5, "a": 1}\n[1, 2]\n{"id": "z", "a": 3, "b": 4}\n')
    kept, ids, problems = read_all(path, ["a", "b"])
    assert kept == [1, 7] and ids == ["1", "z"]
    assert problems == [(2, "not_a_number", "a"), (3, "invalid_json", None), (4, "invalid_json", None),
                        (5, "missing_value", "b"), (6, "invalid_json", None)]


def test_parquet_nulls_and_nan_are_row_problems(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "input.parquet"
    pq.write_table(pa.table({"a": [1.0, None, float("nan"), 4.0], "b": pa.array([1, 2, 3, 4], pa.int32()),
                             "id": ["p", "q", "r", "s"]}), path, row_group_size=2)
    kept, ids, problems = read_all(path, ["a", "b"])
    assert kept == [1, 4] and ids == ["p", "s"]
    assert problems == [(2, "missing_value", "a"), (3, "not_finite", None)]


def test_tasks_join_consecutive_chunks_and_find_them_again():
    plan = [[0, 3, 0, 10], [3, 3, 10, 25], [6, 3, 25, 31], [9, 1, 31, 40]]
    assert plan_tasks(plan, 1, 3) == plan
    assert plan_tasks(plan, 3, 3) == [[0, 9, 0, 31], [9, 1, 31, 40]]
    assert plan_tasks(plan, 9, 3) == [[0, 10, 0, 40]]
    # Chunks of whole row groups far larger than a chunk (pyarrow's default row groups): a task each.
    groups = [[0, 1_048_576, 0, 1], [1_048_576, 1_048_576, 1, 2], [2_097_152, 5, 2, 3]]
    assert plan_tasks(groups, 8, 65_536) == groups
    assert plan_tasks(plan, 3, 2) == [[0, 9, 0, 31], [9, 1, 31, 40]]  # 3 rows: still one chunk of 2
    assert plan_tasks(plan, 3, 1) == plan  # 3 rows: three chunks of 1 each
    assert plan_within(plan, [0, 9, 0, 31]) == plan[:3]
    assert plan_within(plan, [9, 1, 31, 40]) == plan[3:]
    # A range that is no run of the plan's chunks (the plan changed?) is read as one chunk, never skipped.
    assert plan_within(plan, [3, 4, 10, 30]) == [[3, 4, 10, 30]]
    assert plan_within([], [0, 10, 0, 40]) == [[0, 10, 0, 40]]
