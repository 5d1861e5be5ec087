"""Chunk plans: where each chunk of an input starts and ends, found in one streaming pass.

A plan is a list of ``[first_row, rows, start, end]``: ``first_row`` counts data records from 0,
``start``/``end`` are byte offsets (text formats) or row group indexes (Parquet), end exclusive.
Text files are split only where a record ends: at a newline outside double quotes (RFC 4180: an
escaped quote ``""`` toggles twice, so it never changes the parity). Trailing blank lines are not
records. Memory stays at one block whatever the file size.
"""

from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

BLOCK = 8 * 1024 * 1024
_WHITESPACE = b" \t\r\n"
Plan = list[list[int]]


def data_end(handle: BinaryIO, size: int) -> int:
    """The offset just past the last byte that is not whitespace: trailing blank lines are no records."""
    end = size
    while end > 0:
        start = max(0, end - 64 * 1024)
        handle.seek(start)
        tail = handle.read(end - start).rstrip(_WHITESPACE)
        if tail:
            return start + len(tail)
        end = start
    return 0


def _record_ends(block: bytes, quoting: bool, quoted: bool) -> tuple[np.ndarray, bool]:
    """Offsets of the newlines that end a record, and whether the block ends inside quotes."""
    data = np.frombuffer(block, np.uint8)
    newlines = np.flatnonzero(data == 0x0A)
    if not quoting:
        return newlines, False
    quotes = np.flatnonzero(data == 0x22)
    parity = (np.searchsorted(quotes, newlines) + int(quoted)) % 2
    return newlines[parity == 0], bool((len(quotes) + int(quoted)) % 2)


def _blocks(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    handle.seek(start)
    offset = start
    while offset < end:
        block = handle.read(min(BLOCK, end - offset))
        if not block:
            return
        yield offset, block
        offset += len(block)


def plan_text(path: Path, start: int, chunk_rows: int, *, quotes: bool) -> tuple[int, Plan]:
    """Split the records between ``start`` and the end of the data into chunks of ``chunk_rows``."""
    plan: Plan = []
    rows, chunk_start, pending, in_quotes = 0, start, 0, False
    with path.open("rb") as handle:
        end = data_end(handle, path.stat().st_size)
        for offset, block in _blocks(handle, start, end):
            if not in_quotes and (not quotes or b'"' not in block):
                count = block.count(b"\n")  # the common case: no numpy pass over the block
                if pending + count < chunk_rows:
                    pending += count
                    continue
            ends, in_quotes = _record_ends(block, quotes, in_quotes)
            cut = chunk_rows - pending - 1  # index (in ends) of the newline that completes the chunk
            while cut < len(ends):
                stop = offset + int(ends[cut]) + 1
                plan.append([rows, chunk_rows, chunk_start, stop])
                rows, chunk_start = rows + chunk_rows, stop
                cut += chunk_rows
            pending = (pending + len(ends)) % chunk_rows
    if end > chunk_start:  # the last record has no newline after it (trailing whitespace was cut)
        plan.append([rows, pending + 1, chunk_start, end])
        rows += pending + 1
    return rows, plan


def plan_row_groups(row_group_rows: list[int], chunk_rows: int) -> tuple[int, Plan]:
    """Consecutive row groups make a chunk of at least ``chunk_rows`` rows (a large one is a chunk alone):
    a Parquet file can only be read from a row group's start without decoding what comes before."""
    plan: Plan = []
    rows, first, pending = 0, 0, 0
    for index, count in enumerate(row_group_rows):
        pending += count
        if pending >= chunk_rows:
            plan.append([rows, pending, first, index + 1])
            rows, first, pending = rows + pending, index + 1, 0
    if pending:
        plan.append([rows, pending, first, len(row_group_rows)])
        rows += pending
    return rows, plan


def plan_tasks(plan: Plan, per_task: int, chunk_rows: int) -> Plan:
    """Consecutive chunks joined, ``per_task`` at a time, into the ranges a job's tasks run, a chunk of
    several times ``chunk_rows`` rows counting as that many. Parquet chunks are whole row groups, and a
    file written with pyarrow's or Spark's defaults has row groups of a million rows or more: such a
    chunk is a task of its own, so several workers still share the file."""
    tasks: Plan = []
    group: Plan = []
    counted = 0
    for piece in plan:
        group.append(piece)
        counted += max(1, piece[1] // chunk_rows)
        if counted >= per_task:
            tasks.append(_joined(group))
            group, counted = [], 0
    if group:
        tasks.append(_joined(group))
    return tasks


def _joined(group: Plan) -> list[int]:
    return [group[0][0], sum(piece[1] for piece in group), group[0][2], group[-1][3]]


def plan_within(plan: Plan, task: list[int]) -> Plan:
    """The planned chunks a task's range is made of (the plan is in input order). A range that is no
    run of planned chunks is read as one chunk."""
    first_row, rows, start, end = task
    pieces = []
    for piece in plan[bisect_left(plan, start, key=lambda piece: piece[2]):]:
        if piece[2] >= end:
            break
        pieces.append(piece)
    if not pieces or pieces[0][2] != start or pieces[-1][3] != end or pieces[0][0] != first_row \
            or sum(piece[1] for piece in pieces) != rows:
        return [list(task)]
    return pieces
