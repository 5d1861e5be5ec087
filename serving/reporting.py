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
# How often a worker rebuilds dropped routes and loads rollout candidates it lacks (a few small queries).
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


def keep_warm() -> None:
    """Rebuild the route of every model with an alias that a change dropped, and load every rollout candidate,
    in the background, whether or not this process has had a request for that model since it started or a
    change cleared its caches. So a worker keeps answering from its caches through a database outage that
    follows a change (the drills), and never holds a rollout up waiting for its first request for the model.
    Candidates only: loading every aliased version here could fight the runtime cache's memory budget."""
    close_old_connections()  # this thread's own connection: drop it if the database restarted under it
    candidates = routing.aliased_refs(prefixes=("candidate_version",))
    for name in dict.fromkeys(name for name, _ in routing.aliased_refs(prefixes=("version",)) + candidates):
        routing.route_for(name)  # a dict lookup when cached; a rebuild when a change dropped it
    for _, ref in candidates:
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
                keep_warm()
        except Exception:  # Redis or PostgreSQL restarting: keep trying; rollouts hold while reports are missing
            logger.warning("could not report loaded versions", exc_info=True)
        time.sleep(INTERVAL)
