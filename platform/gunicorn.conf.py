"""Gunicorn settings for Modelyard (``gunicorn -c platform/gunicorn.conf.py config.wsgi:application``).

Sizing knobs come from the environment so that compose and Kubernetes can tune them without a rebuild:

- ``GUNICORN_WORKERS`` (default 2): worker processes.
- ``GUNICORN_WORKER_CLASS`` (default ``gthread``): ``gthread`` or ``sync``, nothing else.
- ``GUNICORN_THREADS`` (default 4): threads per ``gthread`` worker. A ``sync`` worker serves one request at
  a time; with threads above 1 gunicorn would quietly run ``gthread`` instead, so ``sync`` together with
  ``GUNICORN_THREADS`` other than 1 refuses to start.
- ``GUNICORN_REUSE_PORT`` (default true for gthread, false for sync): each worker listens on a socket of its
  own (SO_REUSEPORT), from the moment its app is loaded, and the kernel spreads new connections over them.

A value that is not understood, or a contradictory pair, stops gunicorn at start-up with the reason; the
master's log says which workers, threads and listening mode it actually runs.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

WORKER_CLASSES = ("gthread", "sync")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env(name: str) -> str | None:
    """The variable's value, or None when it is unset or blank (compose passes `${X:-}` as blank)."""
    raw = os.environ.get(name, "").strip()
    return raw or None


def _whole(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeError(f"{name}={raw!r}: expected a whole number") from None
    if value < 1:
        raise RuntimeError(f"{name}={raw!r}: expected at least 1")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise RuntimeError(f"{name}={raw!r}: expected true or false")


def _sync_with_threads(threads: int) -> RuntimeError:
    return RuntimeError(
        f"worker class sync with {threads} threads: gunicorn would quietly run gthread workers instead. "
        "For sync workers unset GUNICORN_THREADS (or set it to 1); for threads set GUNICORN_WORKER_CLASS=gthread."
    )


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Chosen with `make bench`; the measured figures follow the settings.
workers = _whole("GUNICORN_WORKERS", 2)

worker_class = _env("GUNICORN_WORKER_CLASS") or "gthread"
if worker_class not in WORKER_CLASSES:
    raise RuntimeError(f"GUNICORN_WORKER_CLASS={worker_class!r}: Modelyard runs {' or '.join(WORKER_CLASSES)}")
if worker_class == "sync":
    if _whole("GUNICORN_THREADS", 1) != 1:
        raise _sync_with_threads(_whole("GUNICORN_THREADS", 1))
    threads = 1
else:
    threads = _whole("GUNICORN_THREADS", 4)

reuse_port = _flag("GUNICORN_REUSE_PORT", worker_class == "gthread")
# The app sizes each model's share of request threads from what gunicorn really runs (serving/engine.py).
os.environ.setdefault("MODELYARD_REQUEST_THREADS", str(threads))

# Measured on the 2-core dev machine, 2026-11-30, commit 106caaf (before the DRF predict views): Modelyard's
# JWT alias predict, ONNX, 1 row; wrk (2 threads) opens 32 keep-alive connections at once, 3 s per run, new
# connections each run. Other engineers' test suites shared the machine, so req/s is the median of the
# runs in which other processes used under 0.35 cores (how many in brackets); the spread holds for all runs.
#   listening      workers x threads  runs  all conns on 1 worker  lowest worker's share  req/s at 32 conns
#   one socket     gthread 2 x 4        18   2                      0 %                    4,162 (5)
#   one socket     gthread 2 x 1         8   4                      0 %                    3,109 (2)
#   reuse_port     gthread 2 x 4        22   0                     44 %                    4,135 (6)
#   reuse_port     gthread 2 x 2        21   0                     44 %                    4,673 (10)
#   reuse_port     gthread 2 x 1        16   0                     35 %                    3,900 (3)
#   reuse_port     gthread 2 x 8         8   0                     36 %                    - (0)
#   one socket     sync 2               20   (one per request)     45 %                    3,573 (2)
#   reuse_port     sync 2               18   (one per request)     48 %                    3,472 (3)
# With one shared socket the gthread worker that happens to be running accepts every connection a client
# opens at once: 32+0 (or 31+1, a 73/27 split of the requests), and the runs with 32+0 served 1,937 and
# 2,697 req/s on a quiet machine against 4,100-4,600 when spread: one process, one GIL, half the server.
# reuse_port gives each worker its own listening socket and the kernel hashes each new connection to one
# of them, so 32 connections never sat on one worker in 67 gthread runs. Sync workers accept one
# connection per request (they close it after each answer), so they spread either way; for them
# reuse_port stays off: a connection hashed to a worker busy with a slow upload would wait behind it while
# the other worker idles, which the shared socket avoids. p50 at 1 connection (quiet runs): sync 0.34 ms (3),
# gthread 2 x 4 0.49 ms (3), as the issue found (sync 0.59-0.62 ms against gthread 0.82-0.86 ms on its machine).
#
# Defaults: gthread, 2 workers x 4 threads, reuse_port. One worker per core: the work is CPU-bound and each
# worker holds its own runtime cache. gthread rather than sync because this process also takes uploads (up
# to 512 MB) and console requests: a sync worker is blocked for a whole slow upload, halving prediction
# capacity; compose and k8s set GUNICORN_THREADS=4, which sync refuses. 2 threads served more req/s than 4
# in these runs (4,673 against 4,135 at the median, on a busy machine); 4 stay the default for upload
# headroom until a quiet `make bench BENCH_ARGS="--threads 2"` settles it. A pool that only serves
# predictions (route /api/v1/models/*/predict and /v2 to it) can set GUNICORN_WORKER_CLASS=sync (and drop
# GUNICORN_THREADS) for the lower latency. `make bench` measures both classes and prints each worker's
# share of the requests.

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
# The same access-log lines, each atom worked out only when the format uses it (~20 us a request less).
logger_class = "config.gunicorn_logging.LeanLogger"


def _json_logs() -> bool:
    """As config/settings.py decides MODELYARD_LOG_FORMAT (json by default in production)."""
    return (_env("MODELYARD_LOG_FORMAT") or ("json" if _env("MODELYARD_ENV") == "production" else "plain")) == "json"


if _json_logs():
    # gunicorn's own lines (the master's, and the access log) become JSON lines on stdout like the app's,
    # through the same formatter (config/logs.py): one stream a log shipper can parse whole.
    from config.logs import logging_config

    logconfig_dict = logging_config(fmt="json", level=_env("LOG_LEVEL") or "INFO")
    logconfig_dict["formatters"]["access"] = {"()": "config.logs.LeanJsonFormatter"}
    logconfig_dict["handlers"]["access"] = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                            "formatter": "access"}
    logconfig_dict["loggers"] = {
        **logconfig_dict["loggers"],
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        # One line per request: a formatter of its own, ~1 us (config.logs.LeanJsonFormatter).
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    }
# The heartbeat file lives in RAM: on an overlay or read-only root, /tmp writes can stall or fail.
worker_tmp_dir = "/dev/shm"
# Nobody runs gunicornc inside the container, and its default socket under $HOME (/app, read-only for
# the app user) would only fail with a warning at every start.
control_socket_disable = True


def _check_and_announce(server: Arbiter) -> None:
    """Judge what gunicorn will really run (command-line flags and GUNICORN_CMD_ARGS override this file)
    and say it in the master's log."""
    cfg = server.cfg
    chosen = cfg.settings["worker_class"].get()
    is_sync = isinstance(chosen, str) and (chosen == "sync" or chosen.endswith("SyncWorker"))
    if is_sync and cfg.threads > 1:
        raise _sync_with_threads(cfg.threads)
    if is_sync:
        shape = "sync, one request at a time each (threads do not apply)"
    else:
        shape = f"{cfg.worker_class_str}, {cfg.threads} thread{'s' if cfg.threads != 1 else ''} each"
    listening = ("reuse_port: one listening socket per worker, the kernel spreads connections" if cfg.reuse_port
                 else "one shared listening socket")
    server.log.info("Modelyard: %d workers x %s; %s", cfg.workers, shape, listening)


def _refuse_taken_port(server: Arbiter) -> None:
    """With reuse_port a second server on a taken port would silently share its connections (same user);
    without it, binding fails. Keep that failure: try the address plainly before any worker binds it."""
    cfg = server.cfg
    # A re-executed master (USR2) and systemd socket activation bind an address that is legitimately in use.
    if not cfg.reuse_port or server.master_pid or os.environ.get("LISTEN_FDS"):
        return
    for address in cfg.address:
        if not isinstance(address, tuple):
            continue  # a unix socket path: SO_REUSEPORT does not apply
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address[:2])
            except OSError as exc:
                raise RuntimeError(f"cannot listen on {address[0]}:{address[1]}: {exc.strerror}") from None


def _own_sockets(cfg: object) -> bool:
    return bool(getattr(cfg, "reuse_port", False)) and hasattr(socket, "SO_REUSEPORT")


def post_fork(server: Arbiter, worker: Worker) -> None:
    # With reuse_port gunicorn binds the worker's socket right after the fork, before the app is imported:
    # the kernel would then hash connections to a worker that cannot answer for a second or more (at start
    # and whenever a worker is replaced). Listen only once the app is loaded, as a shared socket behaves.
    if _own_sockets(worker.cfg):
        for listener in worker.sockets:
            listener.close()
        worker.sockets = []


def post_worker_init(worker: Worker) -> None:
    if _own_sockets(worker.cfg) and not worker.sockets:
        from gunicorn import sock, util

        worker.sockets = sock.create_sockets(worker.cfg, worker.log)
        for listener in worker.sockets:
            util.close_on_exec(listener)
        worker.wait_fds = worker.sockets + [worker.PIPE[0]]


def on_starting(server: Arbiter) -> None:
    _check_and_announce(server)
    _refuse_taken_port(server)
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
