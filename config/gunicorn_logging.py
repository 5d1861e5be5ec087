"""gunicorn's access log, with each atom worked out only when the log format uses it.

gunicorn's ``Logger.access`` builds a dict of every atom for every request: the request's and the
response's headers and the whole WSGI environ, each key formatted and lowercased, then copies it once
more to quote every string value (``SafeAtoms``), while the default format reads nine of them. A
prediction answer carries eleven headers, so that was about 20 us of the web worker's CPU per request
(``make profile``), spent on values nobody reads. ``LeanLogger`` (``logger_class`` in
``platform/gunicorn.conf.py``) writes the same line for any ``access_log_format``: the atoms are the
same functions of the same inputs, quoted the same way, missing ones are ``-``; a test compares its
lines with gunicorn's own for a set of formats.
"""

import os
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

Source = tuple[Any, Any, dict[str, Any], timedelta, "LeanLogger"]


def _sent(resp: Any) -> Any:
    return getattr(resp, "sent", None)


def _status(resp: Any) -> Any:
    status = resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


def _request_line(environ: dict[str, Any]) -> str:
    return f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"


def _micros(elapsed: timedelta) -> int:
    return elapsed.seconds * 1_000_000 + elapsed.microseconds


# (resp, req, environ, request_time, logger) -> value: the same expressions as gunicorn's Logger.atoms
_ATOMS: dict[str, Callable[[Source], Any]] = {
    "h": lambda s: s[2].get("REMOTE_ADDR", "-"),
    "l": lambda s: "-",
    "u": lambda s: s[4]._get_user(s[2]) or "-",
    "t": lambda s: s[4].now(),
    "r": lambda s: _request_line(s[2]),
    "s": lambda s: _status(s[0]),
    "m": lambda s: s[2].get("REQUEST_METHOD"),
    "U": lambda s: s[2].get("PATH_INFO"),
    "q": lambda s: s[2].get("QUERY_STRING"),
    "H": lambda s: s[2].get("SERVER_PROTOCOL"),
    "b": lambda s: _sent(s[0]) is not None and str(_sent(s[0])) or "-",
    "B": lambda s: _sent(s[0]),
    "f": lambda s: s[2].get("HTTP_REFERER", "-"),
    "a": lambda s: s[2].get("HTTP_USER_AGENT", "-"),
    "T": lambda s: s[3].seconds,
    "D": lambda s: _micros(s[3]),
    "M": lambda s: s[3].seconds * 1000 + int(s[3].microseconds / 1000),
    "L": lambda s: f"{s[3].seconds}.{s[3].microseconds:06d}",
    "p": lambda s: f"<{os.getpid()}>",
}


def _pairs(headers: Any) -> Any:
    return headers.items() if hasattr(headers, "items") else headers


def _named(pairs: Any, wanted: str) -> Any:
    """The last pair whose lowercased name is ``wanted`` (gunicorn's dict keeps the last), else '-'."""
    found = "-"
    for name, value in pairs:
        if name.lower() == wanted:
            found = value
    return found


def _lookup(key: str, source: Source) -> Any:
    if key.startswith("{"):
        key = key.lower()
        name, kind = key[1:-2], key[-2:]
        resp, req, environ = source[0], source[1], source[2]
        if kind == "}i":
            return _named(_pairs(req.headers if hasattr(req, "headers") else req), name)
        if kind == "}o":
            return _named(_pairs(resp.headers), name)
        if kind == "}e":
            return _named(environ.items(), name)
        return "-"
    atom = _ATOMS.get(key)
    return "-" if atom is None else atom(source)


class LazyAtoms(dict):
    """A mapping for ``access_log_format % atoms`` that computes (and quotes) an atom when it is read."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self._source = source

    def __len__(self) -> int:
        return 1  # never empty: logging takes an empty mapping argument for "no arguments"

    def __missing__(self, key: str) -> Any:
        value = _lookup(key, self._source)
        if isinstance(value, str):
            value = value.replace('"', '\\"')
        self[key] = value
        return value


class LeanLogger(Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(self.cfg.access_log_format, LazyAtoms((resp, req, environ, request_time, self)))
        except Exception:
            self.error(traceback.format_exc())
