"""Shared fixtures: personas, authenticated clients, real model artifacts and real workers."""

import io
import os
import pickle
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from registry import services
from registry.models import Membership, ModelVersion, RegisteredModel, Role, Team
from registry.tests.factories import MembershipFactory, RegisteredModelFactory, TeamFactory, UserFactory
from registry.tokens import RefreshToken
from registry.uploads import uploaded_file_from_bytes

# s3_server / s3_storage: an S3 API (moto's server) on loopback for the object-storage tests.
pytest_plugins = ["registry.tests.s3"]


@pytest.fixture(autouse=True)
def artifact_root(request: pytest.FixtureRequest, tmp_path: Path, settings: Any) -> Path:
    """Each test writes artifacts to its own folder, so 'nothing left behind' is checkable.

    Integration tests keep the default folder, which the worker process they start also uses.
    """
    if request.node.get_closest_marker("integration"):
        return Path(settings.DATA_DIR) / "artifacts"
    root = tmp_path / "artifacts"
    settings.STORAGES = {**settings.STORAGES, "artifacts": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}}
    return root


@pytest.fixture(autouse=True)
def fresh_serving_caches() -> Iterator[None]:
    """Per-process caches outlive a test's rolled-back transaction; ids may be reused after it."""
    from core import bus
    from serving import engine
    from serving.runtime_cache import runtimes

    bus._dispatch("*")
    runtimes.clear()
    engine._slots.clear()
    engine._pool_slots.clear()
    engine._occupancy.clear()
    engine._running.clear()
    from serving.breaker import breaker

    breaker.clear()
    yield


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- personas -------------------------------------------------------------------------------

@pytest.fixture
def team(db: None) -> Team:
    return TeamFactory(slug="acme")


def _member(team: Team, username: str, role: str) -> Any:
    return MembershipFactory(team=team, user=UserFactory(username=username), role=role).user


@pytest.fixture
def owner(team: Team) -> Any:
    return _member(team, "olivia-owner", Role.OWNER)


@pytest.fixture
def maintainer(team: Team) -> Any:
    return _member(team, "mo-maintainer", Role.MAINTAINER)


@pytest.fixture
def teammate(team: Team) -> Any:
    """A predictor: reads and predicts, cannot upload or move aliases."""
    return _member(team, "tom-teammate", Role.PREDICTOR)


@pytest.fixture
def viewer(team: Team) -> Any:
    return _member(team, "vera-viewer", Role.VIEWER)


@pytest.fixture
def outsider(db: None) -> Any:
    other = TeamFactory(slug="other-team")
    return MembershipFactory(team=other, user=UserFactory(username="oscar-outsider"), role=Role.OWNER).user


def client_for(user: Any | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def as_user() -> Callable[[Any], APIClient]:
    return client_for


# --- artifacts ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def iris_onnx() -> tuple[bytes, list[list[float]]]:
    from registry.demo.artifacts import iris_onnx as build

    return build()


@pytest.fixture(scope="session")
def recommender_skops() -> tuple[bytes, list[list[float]]]:
    from registry.demo.artifacts import recommender_skops as build

    return build(items=60, dims=8)


@pytest.fixture(scope="session")
def iris_estimator() -> Any:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=1000).fit(features, labels)


@pytest.fixture(scope="session")
def iris_skops(iris_estimator: Any) -> bytes:
    import skops.io as sio

    return sio.dumps(iris_estimator)


@pytest.fixture(scope="session")
def iris_pickle(iris_estimator: Any) -> bytes:
    return pickle.dumps(iris_estimator)


@pytest.fixture(scope="session")
def iris_joblib(iris_estimator: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump(iris_estimator, buffer, compress=3)
    return buffer.getvalue()


@pytest.fixture
def model(team: Team, owner: Any) -> RegisteredModel:
    return RegisteredModelFactory(team=team, name="iris", created_by=owner)


def make_version(model: RegisteredModel, actor: Any, data: bytes, *, filename: str = "model.bin",
                 validate: bool = True, **meta: Any) -> ModelVersion:
    with uploaded_file_from_bytes(filename, data) as upload:
        version = services.version_create(actor=actor, model=model, upload=upload,
                                          meta=services.VersionMetadata(**meta))
    return services.version_validate(version_id=version.id) if validate else version


@pytest.fixture
def ready_iris(model: RegisteredModel, owner: Any, iris_onnx: tuple[bytes, Any]) -> ModelVersion:
    version = make_version(model, owner, iris_onnx[0], filename="iris.onnx", input_example=iris_onnx[1])
    assert version.status == "ready", version.status_message
    services.alias_set(actor=owner, model=model, name="production", version=version)
    return version


@pytest.fixture
def iris_rows() -> list[list[float]]:
    return np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]).tolist()


# --- real processes: a Celery worker and a gunicorn web server on the test database -----------

def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """The environment a child process needs to share this test's database, broker and files."""
    return {**os.environ, "DATABASE_URL": database_url(), "MODELYARD_DATA_DIR": str(settings.DATA_DIR),
            "MODELYARD_CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "MODELYARD_CACHE_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""), **extra}


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process; override in a test module to change its settings."""
    return {}


@pytest.fixture
def worker(worker_env: dict[str, str]) -> Iterator[subprocess.Popen]:
    log = Path(settings.DATA_DIR) / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-l", "info",
             "-Q", settings.CELERY_TASK_DEFAULT_QUEUE, "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=process_env(**worker_env), stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
        )
    yield process
    stop(process)


def wait_for_status(number: int, timeout: float = 90.0) -> ModelVersion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = ModelVersion.objects.get(version=number)
        if version.status in ("ready", "failed"):
            return version
        time.sleep(0.25)
    log = (Path(settings.DATA_DIR) / "worker.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"version {number} still {version.status} after {timeout}s; worker log:\n{log}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def web_env() -> dict[str, str]:
    """Extra environment for the gunicorn process; override in a test module to change its settings."""
    return {}


@pytest.fixture
def web_server(tmp_path: Path, web_env: dict[str, str]) -> Iterator[str]:
    """gunicorn with two threaded workers, as deployed; yields its base URL once /healthz answers."""
    port, metrics_dir = free_port(), tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = process_env(**{"GUNICORN_WORKERS": "2", "GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "2",
                         "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "MODELYARD_ENV": "development",
                         "DEBUG": "false", **web_env})
    log = Path(settings.DATA_DIR) / "web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "platform/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--worker-tmp-dir", str(tmp_path), "config.wsgi:application"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        stop(process)
        raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')[-3000:]}")
    yield base
    stop(process)


__all__ = ["Membership", "client_for", "make_version", "settings", "stored_files"]
