"""A fresh PostgreSQL database and Redis db, migrations, then the bench models and a token.

Each run starts from nothing, so results never depend on what an earlier run left behind.
"""

import json
import subprocess
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.artifacts import Artifacts
from bench.environment import VENV_BIN
from bench.errors import BenchError
from bench.options import REPO

SETUP_MARKER = "BENCH_SETUP "


def reset_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in {"postgres", "template0", "template1"}:
        raise BenchError(f"refusing to drop the database {name!r}: give the bench a database of its own")
    admin = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise BenchError(f"cannot (re)create database {name!r} at {parts.hostname}:{parts.port}: {exc}") from None


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    # db 0 is where development and CI keep their data; the bench only ever empties a db of its own.
    if not db:
        raise BenchError(f"refusing to flush Redis db 0 ({url}); use a dedicated db, e.g. redis://127.0.0.1:6379/5")
    try:
        client.flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"cannot reach Redis at {url}: {exc}") from None
    finally:
        client.close()


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise BenchError(f"{what} failed (status {done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done.stdout


def migrate(env: dict[str, str]) -> None:
    _run([str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput"], env, "manage.py migrate")


def setup_models(env: dict[str, str], artifacts: Artifacts) -> dict[str, Any]:
    """Register the models through Modelyard's service layer; returns the token and each version's facts."""
    example = artifacts.onnx.parent / "example.json"
    example.write_text(json.dumps(artifacts.example))
    command = [str(VENV_BIN / "python"), str(REPO / "bench" / "setup_models.py"),
               str(artifacts.onnx), str(artifacts.skops), str(example)]
    output = _run(command, env, "bench/setup_models.py")
    for line in output.splitlines():
        if line.startswith(SETUP_MARKER):
            return json.loads(line[len(SETUP_MARKER):])
    raise BenchError(f"bench/setup_models.py printed no {SETUP_MARKER.strip()} line:\n{output[-3000:]}")
