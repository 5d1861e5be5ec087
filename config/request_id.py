"""The request id: taken from ``X-Request-ID`` when it is a sane token, made otherwise, returned in the
response, put on every log line of the request (config/logs.py) and carried into the Celery tasks the
request queues (a message header, restored around the task on the worker).

On the prediction routes this is the only per-request work logging adds: one ContextVar set and reset
and one response header; nothing is written unless ``MODELYARD_ACCESS_LOG`` is on (docs/deployment.md
gives the measured cost of both).
"""

import itertools
import logging
import os
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from celery import signals
from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_TASK_HEADER = "modelyard_request_id"
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")  # never a newline or a quote into a log line
_current: ContextVar[str | None] = ContextVar("modelyard_request_id", default=None)
_task: ContextVar[tuple[str, str] | None] = ContextVar("modelyard_task", default=None)
access_log = logging.getLogger("modelyard.access")


class _Ids:
    """Fresh ids without a syscall per request: a random per-process prefix (renewed in every forked
    child, so gunicorn's workers never share one) and a counter. uuid4() cost ~4 us; this ~0.3 us."""

    def __init__(self) -> None:
        self.renew()
        os.register_at_fork(after_in_child=self.renew)

    def renew(self) -> None:
        self._prefix, self._count = os.urandom(8).hex(), itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}-{next(self._count):x}"


_ids = _Ids()


def current_request_id() -> str | None:
    return _current.get()


def current_task() -> tuple[str, str] | None:
    """(task id, task name) of the Celery task running in this thread, if any."""
    return _task.get()


def request_id_for(meta: dict[str, Any]) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, a fresh one otherwise."""
    given = meta.get("HTTP_X_REQUEST_ID", "")
    return given if given and _VALID.match(given) else _ids.next()


def bind(request_id: str) -> Any:
    """Put the id on this context's log lines; returns what ``unbind`` needs."""
    return _current.set(request_id)


def unbind(token: Any) -> None:
    _current.reset(token)


def log_access(request: HttpRequest, status: int, started: float) -> None:
    access_log.info("request", extra={"method": request.method, "path": request.path, "status": status,
                                      "duration_ms": round((time.perf_counter() - started) * 1000, 3)})


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.log = settings.MODELYARD_ACCESS_LOG  # read once: no settings lookup per request

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.META)
        token = bind(request_id)
        started = time.perf_counter() if self.log else 0.0
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            if self.log:
                log_access(request, response.status_code, started)
            return response
        finally:
            unbind(token)


@signals.before_task_publish.connect
def _carry(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = _current.get()
    if request_id is not None and headers is not None:
        headers[_TASK_HEADER] = request_id


@signals.task_prerun.connect
def _restore(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    request_id = getattr(getattr(task, "request", None), _TASK_HEADER, None)
    _current.set(request_id if isinstance(request_id, str) else None)
    _task.set((task_id or "", getattr(task, "name", "")))


@signals.task_postrun.connect
def _forget(**_: Any) -> None:
    _current.set(None)
    _task.set(None)
