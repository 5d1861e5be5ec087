"""Environments of the child processes: Modelyard's (setup, migrate, gunicorn) and the floor's.

Both servers get the same GUNICORN_* values, so the floor differs from Modelyard only in the app.
"""

import os
import runpy
from pathlib import Path
from typing import Any
from unittest import mock

from bench.artifacts import Artifacts
from bench.errors import BenchError
from bench.options import REPO, Options

VENV_BIN = REPO / ".venv" / "bin"
GUNICORN_CONF = REPO / "platform" / "gunicorn.conf.py"


def gunicorn_overrides(options: Options, worker_class: str) -> dict[str, str]:
    values = {"GUNICORN_WORKERS": options.workers, "GUNICORN_WORKER_CLASS": worker_class,
              "GUNICORN_REUSE_PORT": options.reuse_port,
              # Sync workers serve one request at a time: the config refuses threads for them.
              "GUNICORN_THREADS": options.threads if worker_class == "gthread" else None}
    return {name: value for name, value in values.items() if value is not None}


def gunicorn_settings(options: Options, worker_class: str) -> dict[str, Any]:
    """What platform/gunicorn.conf.py resolves to in the servers' environment, read from the file itself."""
    with mock.patch.dict(os.environ, _base(options, worker_class), clear=True):
        try:
            conf = runpy.run_path(str(GUNICORN_CONF))
        except RuntimeError as exc:  # the config's own refusal of a setting: gunicorn would not start either
            raise BenchError(f"{GUNICORN_CONF.relative_to(REPO)} refuses these settings: {exc}") from None
    names = ("workers", "threads", "worker_class", "reuse_port", "keepalive", "accesslog")
    return {name: conf.get(name) for name in names}


def _base(options: Options, worker_class: str) -> dict[str, str]:
    env = dict(os.environ)
    # A stray DJANGO_SETTINGS_MODULE or GUNICORN_CMD_ARGS from the shell must not change what is measured.
    for name in ("DJANGO_SETTINGS_MODULE", "GUNICORN_CMD_ARGS", "GUNICORN_BIND"):
        env.pop(name, None)
    if worker_class == "sync":
        env.pop("GUNICORN_THREADS", None)  # GUNICORN_THREADS from the shell is for the gthread runs
    env["PYTHONUNBUFFERED"] = "1"
    env.update(gunicorn_overrides(options, worker_class))
    return env


def modelyard(options: Options, workdir: Path, worker_class: str) -> dict[str, str]:
    env = _base(options, worker_class)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "MODELYARD_ENV": "development",
        # DEBUG would keep every SQL query in memory and slow each request: off, as in production.
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "MODELYARD_DATA_DIR": str(workdir / "data"),
        # The token is made once before the run; the default 15 minutes could expire mid-bench.
        "MODELYARD_ACCESS_TOKEN_MINUTES": "120",
        # As deployed (docker-compose.yml, k8s web.yaml): metrics shared across workers through files.
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
    })
    return env


def floor(options: Options, artifacts: Artifacts, worker_class: str) -> dict[str, str]:
    env = _base(options, worker_class)
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench.floor.settings",
        "BENCH_FLOOR_ONNX": str(artifacts.onnx),
        "BENCH_FLOOR_SKOPS": str(artifacts.skops),
    })
    return env
