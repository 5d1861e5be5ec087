"""Gunicorn settings for Modelyard (``gunicorn -c platform/gunicorn.conf.py config.wsgi:application``).

Sizing knobs come from the environment so that compose and Kubernetes can tune them without a rebuild.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# The default of 2 comes from measurement with `make bench` on the 2-core reference machine, not from
# the (2 x cores + 1) rule: each worker holds its own predictor cache, so extra processes cost memory.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threads let one process overlap uploads, DB and Redis waits while the models stay loaded once per process.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Shorter than nginx's 60 s default but nginx's upstream keepalive_timeout (4 s) is shorter still,
# so nginx never reuses a connection that gunicorn has just closed (which would surface as a 502).
keepalive = 5
# For gthread this is the worker heartbeat, not a per-request limit, so long uploads are not cut off.
timeout = 30
graceful_timeout = 30
# Never recycle workers: a restart throws away the warm predictor cache.
max_requests = 0
# Each worker imports the app itself, after the fork, so no DB connection or loaded model is shared.
preload_app = False
accesslog = "-"
# The heartbeat file lives in RAM: on an overlay or read-only root, /tmp writes can stall or fail.
worker_tmp_dir = "/dev/shm"
# Nobody runs gunicornc inside the container, and its default socket under $HOME (/app, read-only for
# the app user) would only fail with a warning at every start.
control_socket_disable = True


def on_starting(server: Arbiter) -> None:
    # Stale *.db files from an earlier run would be summed into this run's metrics (an emptyDir
    # survives container restarts in Kubernetes), and prometheus_client needs the directory to exist.
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()


def child_exit(server: Arbiter, worker: Worker) -> None:
    # Lets prometheus_client drop the dead worker's live gauges; counters it wrote are kept.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
