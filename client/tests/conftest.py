"""The client against a live server: gunicorn and a real Celery worker on the test database (root conftest).

Personas sign in with their password, as a user of the client would; the CLI keeps its credentials in a
folder of the test's own.
"""

import json
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from registry.models import ModelVersion, RegisteredModel
from rollouts.tests.live import wait_ready
from typer.testing import CliRunner

from modelyard import Client
from modelyard.cli import app

PASSWORD = "correct horse battery staple"  # registry.tests.factories.UserFactory
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


@pytest.fixture
def web_env() -> dict[str, str]:
    # Every test signs in several times from 127.0.0.1; the token endpoint's per-address limit is not under test.
    return {"MODELYARD_TOKEN_THROTTLE": "10000/min"}


def server_password(user: Any) -> None:
    """Give the persona a password hash the server process can check.

    Tests hash with MD5 (fast), which the development settings gunicorn runs with do not accept; a
    PBKDF2 hash with few iterations is accepted (and upgraded by the server at the first sign-in).
    """
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "clientsalt", iterations=1000)
    user.save(update_fields=["password"])


@pytest.fixture
def web(web_server: str, owner: Any, maintainer: Any, teammate: Any) -> str:
    """gunicorn alone: enough for what is refused before a worker would see it."""
    for persona in (owner, maintainer, teammate):
        server_password(persona)
    wait_ready(web_server)
    return web_server


@pytest.fixture
def server(web: str, worker: Any) -> str:
    """gunicorn and a Celery worker, which validates versions and runs batch jobs."""
    return web


@pytest.fixture
def owner_client(server: str, owner: Any) -> Iterator[Client]:
    with Client(server, username=owner.username, password=PASSWORD) as client:
        yield client


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's config folder for this test; no token or server from the environment of the run."""
    home = tmp_path / "cli-config"
    monkeypatch.setenv("MODELYARD_CONFIG_DIR", str(home))
    monkeypatch.delenv("MODELYARD_TOKEN", raising=False)
    monkeypatch.delenv("MODELYARD_URL", raising=False)
    return home


class Cli:
    """``modelyard ...`` in this process through typer's CliRunner; stdout and stderr kept apart."""

    def __init__(self, server: str) -> None:
        self.server, self.runner = server, CliRunner()

    def __call__(self, *args: str, input: str | None = None, code: int = 0) -> Any:
        result = self.runner.invoke(app, list(args), input=input)
        assert result.exit_code == code, (f"exit {result.exit_code} (wanted {code}) for {args}\nstdout:\n"
                                          f"{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}")
        return result

    def json(self, *args: str, code: int = 0) -> Any:
        return json.loads(self("--json", *args, code=code).stdout)

    def login(self, username: str) -> None:
        self("login", "--url", self.server, "-u", username, "--password-stdin", input=PASSWORD + "\n")


@pytest.fixture
def cli(web: str, cli_home: Path) -> Cli:
    return Cli(web)


def nothing_on_server(models_before: int = 0) -> None:
    assert ModelVersion.objects.count() == 0
    assert RegisteredModel.objects.count() == models_before


def stored(data_dir: str | Path) -> set[Path]:
    root = Path(data_dir) / "artifacts"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# --- MLflow model directories, written the way MLflow 2.x writes them ------------------------------

def _mlmodel(flavors: dict[str, Any], run_id: str | None, columns: list[str] | None, example: bool) -> str:
    import yaml

    spec: dict[str, Any] = {"artifact_path": "model", "flavors": flavors, "mlflow_version": "2.16.2",
                            "model_uuid": "9a1e6f0c2b8d4c3e8f7a6b5c4d3e2f10", "utc_time_created": "2026-11-30"}
    if run_id:
        spec["run_id"] = run_id
    if columns:
        spec["signature"] = {"inputs": json.dumps([{"type": "double", "name": c, "required": True} for c in columns]),
                             "outputs": json.dumps([{"type": "long", "required": True}]), "params": None}
    if example:
        spec["saved_input_example_info"] = {"artifact_path": "input_example.json", "pandas_orient": "split",
                                            "type": "dataframe"}
    return yaml.safe_dump(spec, default_flow_style=False)


def _example(path: Path, rows: list[list[float]], columns: list[str]) -> None:
    # MLflow writes a DataFrame example in pandas' split orient; put the columns in another order to
    # check that the client puts them back in the signature's.
    order = list(reversed(columns))
    (path / "input_example.json").write_text(json.dumps(
        {"columns": order, "data": [[row[columns.index(c)] for c in order] for row in rows]}))


def mlflow_sklearn(path: Path, estimator: Any, rows: list[list[float]], run_id: str | None = "4f1c0ffee") -> Path:
    import cloudpickle

    path.mkdir(parents=True)
    (path / "model.pkl").write_bytes(cloudpickle.dumps(estimator))
    flavors = {"python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl",
                                   "predict_fn": "predict", "python_version": "3.11.2"},
               "sklearn": {"code": None, "pickled_model": "model.pkl", "serialization_format": "cloudpickle",
                           "sklearn_version": "1.9.1"}}
    (path / "MLmodel").write_text(_mlmodel(flavors, run_id, FEATURES, example=True))
    _example(path, rows, FEATURES)
    return path


def mlflow_onnx(path: Path, onnx_bytes: bytes, rows: list[list[float]], run_id: str | None = "5e2d0ffee") -> Path:
    path.mkdir(parents=True)
    (path / "model.onnx").write_bytes(onnx_bytes)
    flavors = {"onnx": {"code": None, "data": "model.onnx", "onnx_version": "1.23.2",
                        "providers": ["CPUExecutionProvider"]},
               "python_function": {"data": "model.onnx", "loader_module": "mlflow.onnx", "python_version": "3.11.2"}}
    (path / "MLmodel").write_text(_mlmodel(flavors, run_id, FEATURES, example=True))
    _example(path, rows, FEATURES)
    return path


@pytest.fixture
def write_mlflow(tmp_path: Path) -> Callable[..., Path]:
    def write(flavor: str, model: Any, rows: list[list[float]], name: str = "mlflow-model", **kwargs: Any) -> Path:
        build = mlflow_sklearn if flavor == "sklearn" else mlflow_onnx
        return build(tmp_path / name, model, rows, **kwargs)

    return write


__all__ = ["pickle"]
