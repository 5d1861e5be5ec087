"""The lean access logger writes exactly the lines gunicorn's own Logger writes."""

import logging
import runpy
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from config.gunicorn_logging import LeanLogger

FORMATS = [
    Config().access_log_format,  # gunicorn's default
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(p)s',
    "%(m)s %(U)s?%(q)s %(H)s %(B)s %(T)s %(D)s %(M)s %(L)s",
    '%({x-request-id}o)s %({Content-Type}o)s %({user-agent}i)s %({remote_addr}e)s %({nope}i)s %(zz)s %(_lazy)s',
    "%({X-Dup}o)s %({wsgi.url_scheme}e)s",
]


def _request() -> tuple[object, object, dict, timedelta]:
    resp = SimpleNamespace(status="200 OK", sent=123, headers=[
        ("Content-Type", "application/json"), ("X-Request-ID", 'ab"c'), ("X-Dup", "1"), ("x-dup", "2")])
    req = SimpleNamespace(headers=[("USER-AGENT", 'wrk "quoted"'), ("AUTHORIZATION", "Basic dXNlcjpwYXNz")])
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/m/x/predict?a=1", "SERVER_PROTOCOL": "HTTP/1.1",
               "PATH_INFO": "/api/v1/m/x/predict", "QUERY_STRING": "a=1", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_USER_AGENT": 'wrk "quoted"', "HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz",
               "wsgi.url_scheme": "http"}
    return resp, req, environ, timedelta(seconds=1, microseconds=2345)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _line(cls: type[Logger], fmt: str, monkeypatch: pytest.MonkeyPatch) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", fmt)
    logger = cls(cfg)
    monkeypatch.setattr(logger, "now", lambda: "[30/Nov/2026:15:00:00 +0000]")
    capture = _Capture()
    logger.access_log.handlers = [capture]
    logger.access(*_request())
    return capture.lines[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_line_as_gunicorn(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _line(LeanLogger, fmt, monkeypatch) == _line(Logger, fmt, monkeypatch)


def test_the_deployment_uses_it() -> None:
    """What gunicorn reads from the deployment's config file names the lean logger, and it imports."""
    from pathlib import Path

    from gunicorn.util import load_class

    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "platform" / "gunicorn.conf.py"))
    assert load_class(conf["logger_class"]) is LeanLogger
