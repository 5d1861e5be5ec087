"""orjson on the prediction path: numpy arrays serialise without Python loops."""

from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from core.errors import PayloadTooLarge

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy arrays orjson cannot take natively (object or non-contiguous)
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"Cannot serialise {type(value).__name__}")


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=_OPTIONS)


def body_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class OrjsonParser(BaseParser):
    """JSON with a bounded size (DRF itself reads any length) and orjson's bounded nesting depth."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = body_limit()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
        if b"\\u0000" in raw:  # stored text cannot hold NUL (PostgreSQL refuses it)
            raise ParseError("JSON strings must not contain NUL characters (\\u0000)")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
