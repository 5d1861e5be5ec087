"""Refuse ONNX files whose tensors live in other files (external data).

onnxruntime reads a tensor marked ``data_location: EXTERNAL`` from a file named in the model, relative
to the model's folder: an uploaded .onnx could make the server read its neighbours in artifact
storage, or anything else it can reach. Modelyard stores one file per version, so such a model can
never be complete: it is refused at upload and again when a runtime loads it.

The file is walked as protobuf wire format, streaming: only the messages that can hold tensors are
entered (model, graphs, nodes, attributes, sparse tensors, training info, functions) and every other
field, raw tensor bytes included, is skipped with a seek. Memory stays at one read buffer whatever
the file's size; onnx.load would hold the whole model, and onnxruntime a second copy.
"""

import re
from typing import BinaryIO

from modelkit.errors import KitError
from modelkit.redact import redact

# protobuf's own nesting limit (C++ default): deeper files do not parse in onnxruntime either.
MAX_DEPTH = 100
# A walk visits every field of the messages it enters; past this many the file is not checked.
MAX_FIELDS = 5_000_000
_CHUNK = 64 * 1024
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL

# message -> {field number: message it holds}; fields from onnx.proto (ONNX 1.17).
_MODEL, _GRAPH, _NODE, _ATTRIBUTE, _TENSOR, _SPARSE, _TRAINING, _FUNCTION = range(8)
_CHILDREN: dict[int, dict[int, int]] = {
    _MODEL: {7: _GRAPH, 20: _TRAINING, 25: _FUNCTION},
    _GRAPH: {1: _NODE, 5: _TENSOR, 15: _SPARSE},
    _NODE: {5: _ATTRIBUTE},
    _ATTRIBUTE: {5: _TENSOR, 6: _GRAPH, 10: _TENSOR, 11: _GRAPH, 22: _SPARSE, 23: _SPARSE},
    _SPARSE: {1: _TENSOR, 2: _TENSOR},
    _TRAINING: {1: _GRAPH, 2: _GRAPH},
    _FUNCTION: {7: _NODE, 11: _ATTRIBUTE},
    _TENSOR: {},
}
_TENSOR_NAME, _TENSOR_EXTERNAL_DATA, _TENSOR_DATA_LOCATION = 8, 13, 14
# AttributeProto's repeated floats (7), ints (8) and short strings (9) are not packed: a converted tree
# ensemble holds millions of them. A run of them is skipped by one regular-expression match (in C).
_ATTRIBUTE_RUN = re.compile(
    rb"(?:\x3d[\s\S]{4}|\x40[\x80-\xff]{0,9}[\x00-\x7f]|\x4a(?:"
    + b"|".join(bytes([n]) + rb"[\s\S]{%d}" % n for n in range(32)) + rb"))*+"
)  # possessive: a plain * keeps backtracking state for every field it passes (megabytes per buffer)


class ExternalData(KitError):
    """The model names files outside itself for its tensors."""

    code = "external_data"
    field = "file"


class NotProtobuf(ValueError):
    """The bytes are not a well-formed protobuf message (onnxruntime will not load them either)."""


class _Stream:
    """Forward-only reads over a file with one bounded buffer; skips past the buffer seek."""

    def __init__(self, fileobj: BinaryIO) -> None:
        self.file = fileobj
        self.size = fileobj.seek(0, 2)
        fileobj.seek(0)
        self.buffer, self.buffer_start, self.pos = b"", 0, 0

    def _fill(self) -> None:
        self.file.seek(self.pos)
        self.buffer, self.buffer_start = self.file.read(_CHUNK), self.pos

    def byte(self) -> int:
        offset = self.pos - self.buffer_start
        if not 0 <= offset < len(self.buffer):
            self._fill()
            offset = 0
            if not self.buffer:
                raise NotProtobuf("the file ends inside a field")
        self.pos += 1
        return self.buffer[offset]

    def varint(self) -> int:
        value = 0
        for shift in range(0, 70, 7):
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise NotProtobuf("a varint is longer than ten bytes")

    def skip(self, count: int, end: int) -> None:
        if self.pos + count > end:
            raise NotProtobuf("a field runs past the end of its message")
        self.pos += count

    def skip_run(self, pattern: re.Pattern[bytes], end: int) -> None:
        """Move past the longest run of ``pattern`` that starts here, within the buffer and ``end``."""
        offset = self.pos - self.buffer_start
        if not 0 <= offset < len(self.buffer):
            self._fill()
            offset = 0
        while True:
            match = pattern.match(self.buffer, offset, min(len(self.buffer), end - self.buffer_start))
            self.pos = self.buffer_start + match.end()
            if match.end() < len(self.buffer) - 64 or self.pos >= end or not match.end() - offset:
                return
            self._fill()  # the run may go on past this buffer: continue from a fresh one
            offset = 0

    def read(self, count: int, end: int) -> bytes:
        start = self.pos
        self.skip(count, end)
        offset = start - self.buffer_start
        if 0 <= offset and offset + count <= len(self.buffer):
            return self.buffer[offset:offset + count]
        self.file.seek(start)
        return self.file.read(count)


class _Walk:
    def __init__(self, stream: _Stream, max_fields: int) -> None:
        self.stream, self.fields_left, self.max_fields = stream, max_fields, max_fields

    def message(self, kind: int, end: int, depth: int) -> str | None:
        """The name of the first tensor with external data in this message, else None."""
        if depth > MAX_DEPTH:
            raise NotProtobuf(f"messages are nested more than {MAX_DEPTH} deep")
        stream, children = self.stream, _CHILDREN[kind]
        external, name = False, None
        while stream.pos < end:
            if kind == _ATTRIBUTE:
                stream.skip_run(_ATTRIBUTE_RUN, end)
                if stream.pos >= end:
                    break
            self.fields_left -= 1
            if self.fields_left < 0:
                raise NotProtobuf(f"more fields in its graphs than the {self.max_fields} Modelyard checks")
            tag = stream.varint()
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise NotProtobuf("field number 0")
            if wire == 0:
                value = stream.varint()
                # protobuf reads an enum as a 64-bit varint and keeps its low 32 bits.
                if kind == _TENSOR and number == _TENSOR_DATA_LOCATION and value & 0xFFFFFFFF == _EXTERNAL:
                    external = True
            elif wire == 1:
                stream.skip(8, end)
            elif wire == 5:
                stream.skip(4, end)
            elif wire == 2:
                length = stream.varint()
                if stream.pos + length > end:
                    raise NotProtobuf("a field runs past the end of its message")
                child = children.get(number)
                if child is not None:
                    found = self.message(child, stream.pos + length, depth + 1)
                    if found is not None:
                        return found
                elif kind == _TENSOR and number == _TENSOR_EXTERNAL_DATA:
                    external = True  # a file reference, whatever data_location says
                    stream.skip(length, end)
                elif kind == _TENSOR and number == _TENSOR_NAME:
                    name = stream.read(min(length, 200), end).decode("utf-8", errors="replace")
                    stream.skip(length - min(length, 200), end)
                else:
                    stream.skip(length, end)
            elif wire == 3:
                self.group(number, end, depth + 1)
            else:
                raise NotProtobuf(f"unexpected wire type {wire}")
        if stream.pos != end:
            raise NotProtobuf("a message runs past its end")
        return (name or "(unnamed)") if external else None

    def group(self, number: int, end: int, depth: int) -> None:
        """Skip a (deprecated) group up to its matching end tag; protobuf skips unknown groups too."""
        if depth > MAX_DEPTH:
            raise NotProtobuf(f"messages are nested more than {MAX_DEPTH} deep")
        stream = self.stream
        while stream.pos < end:
            self.fields_left -= 1
            if self.fields_left < 0:
                raise NotProtobuf(f"more fields in its graphs than the {self.max_fields} Modelyard checks")
            tag = stream.varint()
            inner, wire = tag >> 3, tag & 7
            if wire == 4:
                if inner != number:
                    raise NotProtobuf("mismatched end of group")
                return
            if wire == 0:
                stream.varint()
            elif wire == 1:
                stream.skip(8, end)
            elif wire == 5:
                stream.skip(4, end)
            elif wire == 2:
                stream.skip(stream.varint(), end)
            elif wire == 3:
                self.group(inner, end, depth + 1)
            else:
                raise NotProtobuf(f"unexpected wire type {wire}")
        raise NotProtobuf("a group is not closed")


def onnx_external_tensor(fileobj: BinaryIO, *, max_fields: int = MAX_FIELDS) -> str | None:
    """The name of a tensor that references external data, or None when the model is self-contained.

    Raises :class:`NotProtobuf` when the bytes are not a well-formed ModelProto, nest deeper than
    protobuf allows, or hold more than ``max_fields`` fields in the messages that can carry tensors.
    """
    stream = _Stream(fileobj)
    try:
        return _Walk(stream, max_fields).message(_MODEL, stream.size, 0)
    finally:
        fileobj.seek(0)


def onnx_refuse_external_data(fileobj: BinaryIO, *, max_fields: int = MAX_FIELDS) -> None:
    """Raise :class:`ExternalData` if a tensor lives outside the file; :class:`NotProtobuf` if malformed."""
    name = onnx_external_tensor(fileobj, max_fields=max_fields)
    if name is not None:
        raise ExternalData(external_data_message(name))


def external_data_message(tensor: str) -> str:
    return (f"The ONNX model keeps tensor {redact(tensor)!r} in an external data file, which Modelyard does not "
            "read: save the model with its weights inside (onnx.save_model(..., save_as_external_data=False))")
