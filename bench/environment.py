"""Environments of the child processes: Modelyard's (setup, migrate, gunicorn) and the floor's.

Both servers get the same GUNICORN_* values, so the floor differs from Modelyard only in the app.
"""

import os
import runpy
from pathlib import Path
from typing import Any
from unittest import mock

from bench.artifacts import Artifacts
from bench.options import REPO, Options

VENV_BIN = REPO / ".venv" / "bin"
GUNICORN_CONF = REPO / "platform" / "gunicorn.conf.py"


def gunicorn_overrides(options: Options) -> dict[str, str]:
    values = {"GUNICORN_WORKERS": options.workers, "GUNICORN_THREADS": options.threads,
              "GUNICORN_WORKER_CLASS": options.worker_class}
    return {name: value for name, value in values.items() if value is not None}


def gunicorn_settings(options: Options) -> dict[str, Any]:
    """What platform/gunicorn.conf.py resolves to with these overrides, read from the file itself."""
    with mock.patch.dict(os.environ, gunicorn_overrides(options)):
        conf = runpy.run_path(str(GUNICORN_CONF))
    return {name: conf.get(name) for name in ("workers", "threads", "worker_class", "keepalive", "accesslog")}


def _base(options: Options) -> dict[str, str]:
    env = dict(os.environ)
    # A stray DJANGO_SETTINGS_MODULE or GUNICORN_CMD_ARGS from the shell must not change what is measured.
    for name in ("DJANGO_SETTINGS_MODULE", "GUNICORN_CMD_ARGS", "GUNICORN_BIND"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(gunicorn_overrides(options))
    return env


def modelyard(options: Options, workdir: Path) -> dict[str, str]:
    env = _base(options)
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


def floor(options: Options, artifacts: Artifacts) -> dict[str, str]:
    env = _base(options)
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench.floor.settings",
        "BENCH_FLOOR_ONNX": str(artifacts.onnx),
        "BENCH_FLOOR_SKOPS": str(artifacts.skops),
    })
    return env
