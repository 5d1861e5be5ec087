"""Liveness and readiness; both public so that orchestrators can probe them without a token."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.set("modelyard:readyz", "1", 5)
    if cache.get("modelyard:readyz") != "1":
        raise RuntimeError("cache did not return what was written")


def _check_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception:  # a probe reports every failure rather than raising; details go to the log only
            logger.exception("readiness check %s failed", name)
            results[name] = "error"
    from serving import warmup

    results["models"] = "ok" if warmup.is_ready() else f"warming ({warmup.state['loaded']} loaded)"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse({"status": "ready" if ready else "not_ready", "checks": results}, status=200 if ready else 503)
