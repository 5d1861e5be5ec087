"""What every web process tells the others, once a second: the versions it has loaded, and its metrics.

Started with the warm-up (config/wsgi.py) when ``MODELYARD_SERVING_REPORTS`` is on (the default
outside tests: a test process serves no real traffic and must not look like a web worker to a
rollout that waits for every worker to load its candidate).
"""

import logging
import threading
import time

from django.conf import settings

from core import presence, windows
from serving.runtime_cache import runtimes

logger = logging.getLogger(__name__)
INTERVAL = 1.0
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


def _loop() -> None:
    reporter = presence.reporter_id()  # after the fork: each gunicorn worker is its own reporter
    while True:
        try:
            report_once(reporter)
        except Exception:  # Redis restarting: keep trying; rollouts hold while reports are missing
            logger.warning("could not report loaded versions", exc_info=True)
        time.sleep(INTERVAL)
