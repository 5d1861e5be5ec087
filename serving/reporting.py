"""What every web process tells the others, once a second: the versions it has loaded, and its metrics.

Started with the warm-up (config/wsgi.py) when ``MODELYARD_SERVING_REPORTS`` is on (the default
outside tests: a test process serves no real traffic and must not look like a web worker to a
rollout that waits for every worker to load its candidate).
"""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from core import presence, windows
from serving import routing
from serving.runtime_cache import runtimes

logger = logging.getLogger(__name__)
INTERVAL = 1.0
# How often a worker looks for rollout candidates it has not loaded (one small query).
CANDIDATE_SECONDS = 2.0
_started = False
_lock = threading.Lock()


def start() -> None:
    global _started
    if not settings.MODELYARD_SERVING_REPORTS:
        return
    with _lock:
        if _started:
            return
        _started = True
    threading.Thread(target=_loop, name="modelyard-reports", daemon=True).start()


def report_once(reporter: str) -> None:
    presence.report(reporter, [version_id for version_id, _ in runtimes.loaded()])
    windows.flush()


def preload_candidates() -> None:
    """Load every rollout candidate in the background, whether or not this process has had a request for its
    model since it started or last cleared its caches (a Redis restart clears them): a rollout waits until
    every live web worker reports its candidate loaded, so a worker with no traffic for that model must not
    hold it up."""
    close_old_connections()  # this thread's own connection: drop it if the database restarted under it
    for _, ref in routing.aliased_refs(prefixes=("candidate_version",)):
        if not runtimes.is_loaded(ref):
            runtimes.preload(ref)


def _loop() -> None:
    reporter = presence.reporter_id()  # after the fork: each gunicorn worker is its own reporter
    checked = 0.0
    while True:
        try:
            report_once(reporter)
            if time.monotonic() - checked >= CANDIDATE_SECONDS:
                checked = time.monotonic()
                preload_candidates()
        except Exception:  # Redis or PostgreSQL restarting: keep trying; rollouts hold while reports are missing
            logger.warning("could not report loaded versions", exc_info=True)
        time.sleep(INTERVAL)
