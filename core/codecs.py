"""orjson for every JSON route: numpy arrays serialise without Python loops; bodies are bounded."""

from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

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


def view_body_limit(parser_context: Any) -> int:
    """A view may set a smaller ``body_limit`` (the predict routes do); never a larger one."""
    view = (parser_context or {}).get("view")
    limit = getattr(view, "body_limit", None)
    return min(limit(), body_limit()) if limit else body_limit()


def read_bounded(stream: Any, limit: int) -> bytes:
    raw = stream.read(limit + 1) if stream is not None else b""
    if len(raw) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
    return raw


def loads(raw: bytes) -> Any:
    if b"\\u0000" in raw:  # stored text cannot hold NUL (PostgreSQL refuses it)
        raise ParseError("JSON strings must not contain NUL characters (\\u0000)")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"Malformed JSON: {exc}") from None


class OrjsonParser(BaseParser):
    """JSON with a bounded size (DRF itself reads any length) and orjson's bounded nesting depth."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return loads(read_bounded(stream, view_body_limit(parser_context)))


class CsvTextParser(BaseParser):
    """CSV bodies (MLflow's scoring route) as text; the protocol module parses the rows, bounded."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return read_bounded(stream, view_body_limit(parser_context)).decode("utf-8", errors="replace")


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return b"" if data is None else dumps(data)


class FirstRenderer(BaseContentNegotiation):
    """No negotiation: the route speaks one format; clients that send Accept: */* or nothing get it."""

    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        content_type = request.content_type.partition(";")[0].strip().lower()
        return next((parser for parser in parsers if parser.media_type == content_type), None)

    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type
