"""Envelope encryption of artifact files at rest: AES-256-GCM in chunks, so files of any size stream.

Each file gets a fresh 256-bit data key (DEK), wrapped by a key-encryption key (KEK) named by a key
id; the header carries the key id and the wrapped DEK, so old files keep decrypting with the old KEK
after a new one becomes active. The body is cut into 1 MiB chunks, each sealed with AES-GCM under a
nonce of (random prefix, chunk counter, last-chunk flag) and the header as associated data: a changed,
reordered, dropped or appended chunk, a truncated file or an edited header fails authentication
(``Tampered``), like a plaintext whose sha256 no longer matches. Django-free.

Layout: MAGIC | kid length (1) | kid | wrap nonce (12) | wrapped DEK (48) | stream prefix (7) | chunks.
"""

import base64
import binascii
import io
import os
import re
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"\x89MYENC\x01\n"  # not text, not a model format's own signature: never the start of an upload by chance
CHUNK = 1024 * 1024
_TAG = 16
_PREFIX = 7
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
HEAD_BYTES = len(MAGIC) + 1 + 64  # enough of a file to read its key id


class Tampered(Exception):
    """The ciphertext or its header is not what was written: authentication failed."""


class UnknownKey(Exception):
    """The file was sealed with a key id that is not configured (any more)."""


def parse_keys(text: str) -> dict[str, bytes]:
    """``kid:base64-of-32-bytes`` entries separated by commas or new lines; the first is the active key.

    Raises ValueError naming what is wrong (never the key material)."""
    keys: dict[str, bytes] = {}
    for entry in re.split(r"[,\n]", text):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        if not sep or not _KID.match(kid):
            raise ValueError(f"an entry is not 'key-id:base64-key' (key ids: 1-64 of A-Z a-z 0-9 . _ -): {kid[:64]!r}")
        try:
            material = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"key {kid!r} is not valid base64") from None
        if len(material) != 32:
            raise ValueError(f"key {kid!r} is {len(material)} bytes; AES-256 needs 32")
        if kid in keys:
            raise ValueError(f"key id {kid!r} appears twice")
        keys[kid] = material
    return keys


def new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def is_sealed(head: bytes) -> bool:
    return head.startswith(MAGIC)


def key_id(head: bytes) -> str | None:
    """The key id of a sealed file's first bytes (at least 8 + 1 + 64 of them), None for plaintext."""
    if not is_sealed(head) or len(head) <= len(MAGIC):
        return None
    size = head[len(MAGIC)]
    kid = head[len(MAGIC) + 1:len(MAGIC) + 1 + size]
    return kid.decode("ascii", "replace") if len(kid) == size else None


def encrypt(source: BinaryIO, kid: str, kek: bytes) -> Iterator[bytes]:
    """The sealed form of ``source``, a piece at a time (a header, then one piece per chunk)."""
    dek, wrap_nonce, prefix = AESGCM.generate_key(bit_length=256), os.urandom(12), os.urandom(_PREFIX)
    encoded = kid.encode("ascii")
    wrapped = AESGCM(kek).encrypt(wrap_nonce, dek, MAGIC + encoded)
    header = MAGIC + bytes([len(encoded)]) + encoded + wrap_nonce + wrapped + prefix
    yield header
    cipher = AESGCM(dek)
    for index, (block, last) in enumerate(_blocks(source, CHUNK)):
        yield cipher.encrypt(_nonce(prefix, index, last), block, header)


def decrypt(source: BinaryIO, keys: dict[str, bytes]) -> Iterator[bytes]:
    """The plaintext of a sealed ``source``, chunk by chunk; raises Tampered or UnknownKey."""
    head = _exactly(source, len(MAGIC) + 1)
    if not is_sealed(head) or len(head) < len(MAGIC) + 1:
        raise Tampered("not a sealed artifact (its header is missing)")
    rest = _exactly(source, head[-1] + 12 + 32 + _TAG + _PREFIX)
    header = head + rest
    kid = header[len(MAGIC) + 1:len(MAGIC) + 1 + head[-1]].decode("ascii", "replace")
    if kid not in keys:
        raise UnknownKey(f"artifact sealed with key id {kid!r}, which is not configured")
    offset = len(MAGIC) + 1 + head[-1]
    wrap_nonce, wrapped = header[offset:offset + 12], header[offset + 12:offset + 12 + 32 + _TAG]
    prefix = header[-_PREFIX:]
    if len(header) != offset + 12 + 32 + _TAG + _PREFIX:
        raise Tampered("the header is cut short")
    try:
        cipher = AESGCM(AESGCM(keys[kid]).decrypt(wrap_nonce, wrapped, MAGIC + kid.encode("ascii")))
        for index, (block, last) in enumerate(_blocks(source, CHUNK + _TAG)):
            yield cipher.decrypt(_nonce(prefix, index, last), block, header)
    except InvalidTag:
        raise Tampered("the ciphertext does not authenticate: it changed after it was written") from None


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise ValueError("file too large for one envelope (4 PiB)")
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _blocks(source: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """Full-size blocks and whether each is the last; an empty source is one empty last block."""
    current = _exactly(source, size)
    while True:
        if len(current) < size:
            yield current, True
            return
        following = _exactly(source, size)
        if not following:
            yield current, True
            return
        yield current, False
        current = following


def read_exactly(source: BinaryIO, size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the stream (a socket may answer in pieces)."""
    return _exactly(source, size)


def _exactly(source: BinaryIO, size: int) -> bytes:
    parts, missing = [], size
    while missing:
        part = source.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


class IterReader(io.RawIOBase):
    """A read-only binary file over an iterator of byte pieces (what FileResponse and boto3 read)."""

    def __init__(self, pieces: Iterator[bytes], on_close: object = None) -> None:
        self._pieces, self._on_close = pieces, on_close
        self._buffer, self._at = memoryview(b""), 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._at >= len(self._buffer):
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._buffer, self._at = memoryview(piece), 0
        size = min(len(target), len(self._buffer) - self._at)
        target[:size] = self._buffer[self._at:self._at + size]
        self._at += size
        return size

    def close(self) -> None:
        if not self.closed and callable(self._on_close):
            self._on_close()
        super().close()
