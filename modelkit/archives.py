"""Archives of a model directory (a TensorFlow SavedModel as zip, tar or tar.gz): checked, then unpacked.

Every entry must be a plain file or folder with a relative path that stays inside the archive: an
absolute path, a ``..`` step, a link or a device refuses the whole archive (:class:`UnsafeArchive`),
at upload, before anything is unpacked. Tar headers are walked without extracting, with the same
entry and size caps as zips (a tar.gz is decompressed once, as a stream, to read them).
"""

import gzip
import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from modelkit.errors import KitError


class UnsafeArchive(KitError):
    """An entry that would land outside the folder it is unpacked into, or is not a plain file."""

    code = "unsafe_archive"
    field = "file"


class TarTooLarge(KitError):
    code = "archive_too_large"
    field = "file"


_TAR_MAGIC_OFFSET = 257


def is_tar(fileobj: BinaryIO) -> bool:
    """A POSIX (ustar) tar, or one inside gzip; only the first header is read."""
    fileobj.seek(0)
    try:
        head = fileobj.read(512)
        if head.startswith(b"\x1f\x8b"):
            fileobj.seek(0)
            with gzip.GzipFile(fileobj=fileobj) as unzipped:
                head = unzipped.read(512)
    except (OSError, EOFError):
        return False
    finally:
        fileobj.seek(0)
    return head[_TAR_MAGIC_OFFSET:_TAR_MAGIC_OFFSET + 5] == b"ustar"


def check_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UnsafeArchive(f"The archive has a path outside its folder: {name[:200]!r}")


def tar_check(fileobj: BinaryIO, *, max_entries: int, max_unpacked_bytes: int) -> list[str]:
    """The entry names; UnsafeArchive for links, devices or escaping paths, TarTooLarge past the caps."""
    names, unpacked = [], 0
    fileobj.seek(0)
    try:
        with tarfile.open(fileobj=fileobj, mode="r|*") as archive:  # a stream: one header at a time
            for member in archive:
                check_name(member.name)
                if not (member.isfile() or member.isdir()):
                    raise UnsafeArchive(f"The archive entry {member.name[:200]!r} is a link or a device; only "
                                        "files and folders are accepted")
                names.append(member.name)
                unpacked += member.size
                if len(names) > max_entries or unpacked > max_unpacked_bytes:
                    raise TarTooLarge(f"The archive has more than {max_entries} entries or unpacks to more than "
                                      f"{max_unpacked_bytes} bytes")
    finally:
        fileobj.seek(0)
    return names


def model_root(names: list[str], marker: str) -> str | None:
    """The folder holding ``marker`` (the archive's root or one folder down), or None."""
    for name in names:
        parts = PurePosixPath(name).parts
        if parts and parts[-1] == marker and len(parts) <= 2:
            return str(PurePosixPath(*parts[:-1])) if len(parts) == 2 else ""
    return None


def unpack(path: Path, destination: Path, *, max_entries: int, max_unpacked_bytes: int) -> list[str]:
    """Unpack a checked zip or tar into ``destination``; returns the entry names."""
    with path.open("rb") as handle:
        tar = is_tar(handle)
        if tar:
            names = tar_check(handle, max_entries=max_entries, max_unpacked_bytes=max_unpacked_bytes)
    if tar:
        with tarfile.open(path) as archive:
            archive.extractall(destination, filter="data")  # the stdlib's own refusal of unsafe entries too
        return names
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in names:
            check_name(name)
        archive.extractall(destination)
    return names
