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

# Chosen with `make bench` on the 2-core reference machine (2026-11-24, 1-row ONNX predict via alias):
#   gthread 2 workers x 4 threads: 2,378 req/s at 32 connections, p50 0.82 ms / p99 1.08 ms at 1,
#                                  1,000-row requests 397/s; 0.79 x the bare-Django floor
#   sync    2 workers:             2,394 req/s at 32 connections, p50 0.58 ms / p99 0.78 ms at 1,
#                                  1,000-row requests 498/s; 0.84 x the floor
# One worker per core: the work is CPU-bound and each worker holds its own predictor cache. gthread
# stays the default because this process also takes uploads (up to 512 MB) and console requests: a
# sync worker is blocked for a whole slow upload, halving prediction capacity. A pool that only
# serves predictions (route /api/v1/models/*/predict and /v2 to it) should set
# GUNICORN_WORKER_CLASS=sync for the lower latency.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
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
