"""Detect an artifact's format from its first bytes; the client's filename is never trusted.

A zip (skops) is sized up from its own records before anything parses its directory: the entry count
and the total unpacked size are read from the end-of-central-directory record and a walk of the
directory bytes (at most ``max_directory_bytes`` of them), so a zip of 200,000 empty entries costs a
few megabytes to refuse, not the hundred-odd that :mod:`zipfile` spends building one object per entry.
"""

import re
import struct
import zipfile
from enum import StrEnum
from typing import BinaryIO

from modelkit.archives import check_name, is_tar, model_root, tar_check
from modelkit.errors import KitError


class Format(StrEnum):
    """Artifact formats; the values are what the registry stores."""

    ONNX = "onnx"
    SKOPS = "skops"
    PICKLE = "pickle"
    JOBLIB = "joblib"
    # Safe formats: data only, loaded without running code chosen by the file's author.
    XGBOOST = "xgboost"  # XGBoost's JSON or UBJSON model file (Booster.save_model)
    LIGHTGBM = "lightgbm"  # LightGBM's text model (Booster.save_model)
    # TorchScript code is a restricted language run by torch's own interpreter, not Python.
    TORCHSCRIPT = "torchscript"  # torch.jit.save archive
    SAVEDMODEL = "savedmodel"  # a TensorFlow SavedModel folder as zip, tar or tar.gz
    # torch.export.save archive: torch.export.load unpickles parts of it (weights_only=False) and evaluates its
    # symbolic shapes with sympy.sympify, so loading one runs code chosen by its author.
    PT2 = "pt2"


# The frameworks a format needs on the validating worker, and the extra that installs them.
FRAMEWORKS = {Format.XGBOOST: ("xgboost", "requirements.txt"), Format.LIGHTGBM: ("lightgbm", "requirements.txt"),
              Format.TORCHSCRIPT: ("torch", "requirements-torch.txt"), Format.PT2: ("torch", "requirements-torch.txt"),
              Format.SAVEDMODEL: ("tensorflow", "requirements-tf.txt")}


# Loading these runs code chosen by the file's author.
UNSAFE_FORMATS = frozenset({Format.PICKLE, Format.JOBLIB, Format.PT2})

# A 300-tree random forest saved with skops has 1,502 entries and a 97 KB directory (65 bytes an
# entry); these caps leave room for forests ten times larger and refuse archive bombs.
MAX_ZIP_ENTRIES = 50_000
MAX_ZIP_DIRECTORY_BYTES = 8 * 1024 * 1024
# skops unpacks every entry into memory when it loads; more than this cannot be served from a worker.
MAX_ZIP_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024


class ArchiveTooLarge(KitError):
    """A zip whose directory or unpacked contents exceed the caps; refused before it is parsed."""

    code = "archive_too_large"
    field = "file"


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


# XGBoost's JSON and UBJSON models open with their "learner" object (UBJSON: '{', a length, the key).
_XGBOOST_JSON = re.compile(rb'\s*\{\s*"learner"\s*:')
_XGBOOST_UBJ = re.compile(rb"\{(?:[iU].|I..|l.{4}|L.{8})learner", re.DOTALL)
_LIGHTGBM = re.compile(rb"tree\r?\nversion=v\d")


def _zip_format(names: list[str]) -> str | None:
    if "schema.json" in names:
        return Format.SKOPS
    if model_root(names, "saved_model.pb") is not None:
        for name in names:  # refused at upload: unpacking happens on the worker
            check_name(name)
        return Format.SAVEDMODEL
    # torch.jit.save: <folder>/data.pkl (a TorchScript-only pickle: no Python objects) and <folder>/code/.
    if any(n.endswith("/data.pkl") for n in names) and any("/code/__torch__" in n for n in names):
        return Format.TORCHSCRIPT
    # torch.export.save: <folder>/archive_format ("pt2") and the program's graph as <folder>/models/<name>.json.
    root = model_root(names, "archive_format")
    if root is not None and any(n.startswith(f"{root}/models/" if root else "models/") and n.endswith(".json")
                                for n in names):
        return Format.PT2
    return None


def _tar_format(fileobj: BinaryIO, max_entries: int, max_unpacked_bytes: int) -> str | None:
    """A tar (or tar.gz) of a SavedModel folder; UnsafeArchive / TarTooLarge when its entries are refused."""
    import tarfile

    try:
        names = tar_check(fileobj, max_entries=max_entries, max_unpacked_bytes=max_unpacked_bytes)
    except (tarfile.TarError, OSError, EOFError):  # malformed: not a format we serve
        return None
    return Format.SAVEDMODEL if model_root(names, "saved_model.pb") is not None else None


def _is_zlib(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0


# --- zip records (APPNOTE.TXT 4.3.12-4.3.16), read the way zipfile reads them ------------------

_EOCD = struct.Struct("<4s4H2LH")  # signature, disk, cd disk, entries here, entries, cd size, cd offset, comment
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # ..., entries here, entries, cd size, cd offset
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # 46 bytes; sizes at 8 and 9, name/extra/comment lengths at 10-12
_EOCD_SIG, _EOCD64_LOCATOR_SIG, _EOCD64_SIG, _CENTRAL_SIG = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06", b"PK\x01\x02"
_ZIP64_EXTRA = 0x0001


def _end_record(fileobj: BinaryIO) -> tuple[int, int, int]:
    """(entries, directory size, directory start) as zipfile will see them; BadZipFile if there is none."""
    size = fileobj.seek(0, 2)
    tail_start = max(size - _EOCD.size - 0xFFFF, 0)
    fileobj.seek(tail_start)
    tail = fileobj.read(size - tail_start)
    if len(tail) >= _EOCD.size and tail[-_EOCD.size:-_EOCD.size + 4] == _EOCD_SIG and tail[-2:] == b"\0\0":
        found = len(tail) - _EOCD.size
    else:
        found = tail.rfind(_EOCD_SIG)
        if found < 0 or found + _EOCD.size > len(tail):
            raise zipfile.BadZipFile("no end of central directory record")
    record = _EOCD.unpack_from(tail, found)
    entries, directory_size = record[4], record[5]
    location = tail_start + found
    zip64 = False
    if location >= _EOCD64.size + _EOCD64_LOCATOR.size:  # zip64 records, right before the end record
        fileobj.seek(location - _EOCD64.size - _EOCD64_LOCATOR.size)
        before = fileobj.read(_EOCD64.size + _EOCD64_LOCATOR.size)
        locator = _EOCD64_LOCATOR.unpack_from(before, _EOCD64.size)
        if locator[0] == _EOCD64_LOCATOR_SIG:
            if locator[1] != 0 or locator[3] > 1:
                raise zipfile.BadZipFile("zip files that span several disks are not supported")
            record64 = _EOCD64.unpack_from(before, 0)
            if record64[0] == _EOCD64_SIG:
                entries, directory_size, zip64 = record64[7], record64[8], True
    start = location - directory_size - (_EOCD64.size + _EOCD64_LOCATOR.size if zip64 else 0)
    if start < 0:
        raise zipfile.BadZipFile("bad offset for the central directory")
    return entries, directory_size, start


def _zip64_size(extra: bytes, usize: int) -> int:
    """The uncompressed size from a zip64 extra field, when the 32-bit one says 0xFFFFFFFF."""
    pos = 0
    while usize == 0xFFFFFFFF and pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        if tag == _ZIP64_EXTRA and length >= 8 and pos + 12 <= len(extra):
            return struct.unpack_from("<Q", extra, pos + 4)[0]
        pos += 4 + length
    return usize


def zip_check(
    fileobj: BinaryIO, *, max_entries: int = MAX_ZIP_ENTRIES, max_directory_bytes: int = MAX_ZIP_DIRECTORY_BYTES,
    max_unpacked_bytes: int = MAX_ZIP_UNPACKED_BYTES,
) -> list[str]:
    """Size a zip up from its own records and return its entry names.

    Raises :class:`ArchiveTooLarge` when the archive has more than ``max_entries`` entries, a directory
    over ``max_directory_bytes`` or declares more than ``max_unpacked_bytes`` unpacked, and
    ``zipfile.BadZipFile`` when its records are malformed. Memory used is bounded by
    ``max_directory_bytes`` plus the names; nothing is decompressed.
    """
    try:
        entries, directory_size, start = _end_record(fileobj)
        if entries > max_entries:
            raise ArchiveTooLarge(f"The archive has {entries} entries; the limit is {max_entries}")
        if directory_size > max_directory_bytes:
            raise ArchiveTooLarge(f"The archive's directory is {directory_size} bytes; the limit is "
                                  f"{max_directory_bytes}")
        fileobj.seek(start)
        directory = fileobj.read(directory_size)
    finally:
        fileobj.seek(0)
    if len(directory) != directory_size:
        raise zipfile.BadZipFile("the central directory is truncated")
    # The end record's count may lie; the directory itself is what zipfile walks, so count it too.
    names, unpacked, pos = [], 0, 0
    while pos < directory_size:
        if pos + _CENTRAL.size > directory_size:
            raise zipfile.BadZipFile("truncated central directory entry")
        header = _CENTRAL.unpack_from(directory, pos)
        if header[0] != _CENTRAL_SIG:
            raise zipfile.BadZipFile("bad central directory entry")
        name_end = pos + _CENTRAL.size + header[10]
        extra_end = name_end + header[11]
        names.append(directory[pos + _CENTRAL.size:name_end].decode("utf-8", errors="replace"))
        if len(names) > max_entries:
            raise ArchiveTooLarge(f"The archive has more than {max_entries} entries")
        unpacked += _zip64_size(directory[name_end:extra_end], header[9])
        if unpacked > max_unpacked_bytes:
            raise ArchiveTooLarge(f"The archive unpacks to more than {max_unpacked_bytes} bytes")
        pos = extra_end + header[12]
    return names


def detect_format(
    fileobj: BinaryIO, *, max_zip_entries: int = MAX_ZIP_ENTRIES,
    max_zip_directory_bytes: int = MAX_ZIP_DIRECTORY_BYTES, max_zip_unpacked_bytes: int = MAX_ZIP_UNPACKED_BYTES,
) -> str | None:
    """Return a Format, or None when the bytes are no format Modelyard serves.

    Raises :class:`ArchiveTooLarge` for a zip over the caps (see :func:`zip_check`).
    """
    fileobj.seek(0)
    head = fileobj.read(64)
    fileobj.seek(0)
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zip_check(fileobj, max_entries=max_zip_entries, max_directory_bytes=max_zip_directory_bytes,
                              max_unpacked_bytes=max_zip_unpacked_bytes)
            # Within the caps: let zipfile confirm the archive is one it can read.
            with zipfile.ZipFile(fileobj) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):  # malformed: not a format we serve
            return None
        finally:
            fileobj.seek(0)
        return _zip_format(names)
    if is_tar(fileobj):
        return _tar_format(fileobj, max_zip_entries, max_zip_unpacked_bytes)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return Format.PICKLE
    if head.startswith(_COMPRESSED_JOBLIB) or _is_zlib(head):
        return Format.JOBLIB
    if _looks_like_onnx(head):
        return Format.ONNX
    if _XGBOOST_JSON.match(head) or _XGBOOST_UBJ.match(head):
        return Format.XGBOOST
    if _LIGHTGBM.match(head):
        return Format.LIGHTGBM
    return None
