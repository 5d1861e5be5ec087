"""Parquet files of one schema joined into one without decoding them: the row groups' bytes are copied
as they are and the footers merged, with every byte offset moved by where its part now starts.

What parquet-mr's ``ParquetFileWriter.appendRowGroups`` does; pyarrow has no such call. Each chunk of a
job encodes its own output, side by side on every worker, and the last step only copies bytes. The
footer is Thrift's compact protocol (parquet-format's ``parquet.thrift``): it is read into a generic tree
of ``[field id, type, value]``, the offsets are moved, and it is written back. Parts that differ in
schema or metadata, or that are encrypted, raise ``NotJoinable``: the caller encodes them instead.
"""

from pathlib import Path
from typing import Any, BinaryIO, Protocol

MAGIC = b"PAR1"
# Thrift compact protocol types
STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)
Field = list[Any]  # [field id, type, value]

# parquet.thrift field ids
FILE_SCHEMA, FILE_NUM_ROWS, FILE_ROW_GROUPS, FILE_KEY_VALUES = 2, 3, 4, 5
FILE_ENCRYPTION = (8, 9)
GROUP_COLUMNS, GROUP_FILE_OFFSET, GROUP_ORDINAL = 1, 5, 7
COLUMN_FILE_PATH, COLUMN_META = 1, 3
COLUMN_OFFSETS = (2, 6)  # file_offset, column_index_offset (a column index holds no offsets itself)
# An offset index lists its pages' absolute offsets outside the footer: parts with one are encoded again.
COLUMN_OFFSET_INDEX = 4
COLUMN_ENCRYPTION = (8, 9)
META_OFFSETS = (9, 10, 11, 14)  # data, index, dictionary page; bloom filter
MAX_ORDINAL = 2**15 - 1  # RowGroup.ordinal is an i16


class Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class NotJoinable(ValueError):
    """These parts cannot be joined byte for byte."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def take(self, count: int) -> bytes:
        value = self.data[self.pos:self.pos + count]
        if len(value) != count:
            raise NotJoinable("The footer ends early")
        self.pos += count
        return value

    def value(self, kind: int) -> Any:
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind in (TRUE, FALSE, BYTE):  # a bool outside a field header (in a list) is a byte
            return self.byte()
        if kind == DOUBLE:
            return self.take(8)
        if kind == BINARY:
            return self.take(self.varint())
        if kind in (LIST, SET):
            header = self.byte()
            size, element = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            return [element, [self.value(element) for _ in range(size)]]
        if kind == MAP:
            size = self.varint()
            types = self.byte() if size else 0
            return [types, [[self.value(types >> 4), self.value(types & 0x0F)] for _ in range(size)]]
        if kind == STRUCT:
            return self.struct()
        raise NotJoinable(f"Unknown Thrift type {kind} in the footer")

    def struct(self) -> list[Field]:
        fields: list[Field] = []
        last = 0
        while (header := self.byte()) != STOP:
            kind, delta = header & 0x0F, header >> 4
            last = last + delta if delta else self.zigzag()
            fields.append([last, kind, kind == TRUE] if kind in (TRUE, FALSE) else [last, kind, self.value(kind)])
        return fields


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def varint(self, n: int) -> None:
        while n > 0x7F:
            self.out.append((n & 0x7F) | 0x80)
            n >>= 7
        self.out.append(n)

    def zigzag(self, n: int) -> None:
        self.varint((n << 1) ^ (n >> 63))

    def value(self, kind: int, value: Any) -> None:
        if kind in (I16, I32, I64):
            self.zigzag(value)
        elif kind in (TRUE, FALSE, BYTE):
            self.out.append(value & 0xFF)
        elif kind == DOUBLE:
            self.out += value
        elif kind == BINARY:
            self.varint(len(value))
            self.out += value
        elif kind in (LIST, SET):
            element, items = value
            if len(items) < 15:
                self.out.append(len(items) << 4 | element)
            else:
                self.out.append(0xF0 | element)
                self.varint(len(items))
            for item in items:
                self.value(element, item)
        elif kind == MAP:
            types, items = value
            self.varint(len(items))
            if items:
                self.out.append(types)
            for key, item in items:
                self.value(types >> 4, key)
                self.value(types & 0x0F, item)
        else:
            self.struct(value)

    def struct(self, fields: list[Field]) -> None:
        last = 0
        for number, kind, value in fields:
            wire = (TRUE if value else FALSE) if kind in (TRUE, FALSE) else kind
            if 0 < number - last <= 15:
                self.out.append((number - last) << 4 | wire)
            else:
                self.out.append(wire)
                self.zigzag(number)
            last = number
            if kind not in (TRUE, FALSE):
                self.value(kind, value)
        self.out.append(STOP)


def decode_footer(data: bytes) -> list[Field]:
    try:
        return _Reader(data).struct()
    except (IndexError, RecursionError) as exc:
        raise NotJoinable("The footer cannot be read") from exc


def encode_footer(fields: list[Field]) -> bytes:
    writer = _Writer()
    writer.struct(fields)
    return bytes(writer.out)


def _field(fields: list[Field], number: int) -> Field | None:
    return next((field for field in fields if field[0] == number), None)


def read_footer(handle: BinaryIO) -> tuple[int, list[Field]]:
    """(where the footer starts, the footer) of an open Parquet file."""
    size = handle.seek(0, 2)
    if size < 12:
        raise NotJoinable("Not a plain Parquet file")
    handle.seek(0)
    head = handle.read(4)
    handle.seek(size - 8)
    tail = handle.read(8)
    if head != MAGIC or tail[4:] != MAGIC:
        raise NotJoinable("Not a plain Parquet file")
    length = int.from_bytes(tail[:4], "little")
    start = size - 8 - length
    if start < 4:
        raise NotJoinable("The footer length is wrong")
    handle.seek(start)
    return start, decode_footer(handle.read(length))


def _move_group(group: list[Field], shift: int, ordinal: int) -> None:
    for field in group:
        if field[0] == GROUP_COLUMNS:
            for column in field[2][1]:
                _move_column(column, shift)
        elif field[0] == GROUP_FILE_OFFSET and field[2] > 0:
            field[2] += shift
    ordinals = [field for field in group if field[0] == GROUP_ORDINAL]
    if ordinals:
        ordinals[0][2] = ordinal
        if ordinal > MAX_ORDINAL:
            group.remove(ordinals[0])


def _move_column(column: list[Field], shift: int) -> None:
    for field in column:
        number = field[0]
        if number == COLUMN_FILE_PATH or number in COLUMN_ENCRYPTION:
            raise NotJoinable("A column chunk lives in another file or is encrypted")
        if number == COLUMN_OFFSET_INDEX:
            raise NotJoinable("A column chunk has a page index")
        if number in COLUMN_OFFSETS and field[2] > 0:
            field[2] += shift
        elif number == COLUMN_META:
            for meta in field[2]:
                if meta[0] in META_OFFSETS and meta[2] > 0:
                    meta[2] += shift


def _compatible(first: list[Field], other: list[Field]) -> None:
    for number in (FILE_SCHEMA, FILE_KEY_VALUES):
        if _field(first, number) != _field(other, number):
            raise NotJoinable("The parts differ in schema")
    if any(_field(other, number) for number in FILE_ENCRYPTION):
        raise NotJoinable("The part is encrypted")


def join_parquet(parts: list[Path], out: Sink) -> int:
    """Write ``parts`` (in order) to ``out`` as one Parquet file; returns its row count. Raises
    ``NotJoinable`` before writing anything if the parts cannot be joined byte for byte."""
    handles = [path.open("rb") for path in parts]
    try:
        footers = [read_footer(handle) for handle in handles]
        first = footers[0][1]
        groups, rows, shift = [], 0, 0
        for end, footer in footers:
            _compatible(first, footer)
            for group in (_field(footer, FILE_ROW_GROUPS) or [FILE_ROW_GROUPS, LIST, [STRUCT, []]])[2][1]:
                _move_group(group, shift, len(groups))
                groups.append(group)
            rows += (_field(footer, FILE_NUM_ROWS) or [FILE_NUM_ROWS, I64, 0])[2]
            shift += end - 4  # the part's row groups, without its leading magic, follow the one before
        out.write(MAGIC)
        for handle, (end, _) in zip(handles, footers, strict=True):
            handle.seek(4)
            _copy(handle, out, end - 4)
    finally:
        for handle in handles:
            handle.close()
    merged = [field for field in first if field[0] not in (FILE_NUM_ROWS, FILE_ROW_GROUPS)]
    merged += [[FILE_NUM_ROWS, I64, rows], [FILE_ROW_GROUPS, LIST, [STRUCT, groups]]]
    footer = encode_footer(sorted(merged, key=lambda field: field[0]))
    out.write(footer + len(footer).to_bytes(4, "little") + MAGIC)
    return rows


def _copy(source: BinaryIO, out: Sink, count: int) -> int:
    left = count
    while left:
        block = source.read(min(left, 8 * 1024 * 1024))
        if not block:
            raise NotJoinable("A part ends early")
        out.write(block)
        left -= len(block)
    return count
