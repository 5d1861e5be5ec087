"""Detect an artifact's format from its first bytes; the client's filename is never trusted."""

import zipfile
from enum import StrEnum
from typing import BinaryIO


class Format(StrEnum):
    """Artifact formats; the values are what the registry stores."""

    ONNX = "onnx"
    SKOPS = "skops"
    PICKLE = "pickle"
    JOBLIB = "joblib"


# Loading these runs code chosen by the file's author.
UNSAFE_FORMATS = frozenset({Format.PICKLE, Format.JOBLIB})


# Field tags that may follow ir_version in an ONNX ModelProto (producer_name, producer_version,
# domain, model_version, doc_string, graph, opset_import, metadata_props, training_info, functions).
_ONNX_NEXT_TAGS = {0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x52, 0x5A, 0x72}
_COMPRESSED_JOBLIB = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00", b"ZF", b"\x04\x22\x4d\x18")


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return -1, pos


def _looks_like_onnx(head: bytes) -> bool:
    if len(head) < 3 or head[0] != 0x08:
        return False
    ir_version, pos = _read_varint(head, 1)
    return 1 <= ir_version <= 30 and pos < len(head) and head[pos] in _ONNX_NEXT_TAGS


def _is_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0


def detect_format(fileobj: BinaryIO) -> str | None:
    """Return a Format, or None when the bytes are no format Modelyard serves."""
    fileobj.seek(0)
    head = fileobj.read(64)
    fileobj.seek(0)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(fileobj) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        finally:
            fileobj.seek(0)
        return Format.SKOPS if "schema.json" in names else None
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return Format.PICKLE
    if head.startswith(_COMPRESSED_JOBLIB) or _is_zlib(head):
        return Format.JOBLIB
    if _looks_like_onnx(head):
        return Format.ONNX
    return None
