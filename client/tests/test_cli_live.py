"""The modelyard command against gunicorn and a real worker, through typer's CliRunner."""

import stat

import numpy as np
import pyarrow.parquet as pq
import pytest
from batch.tests.conftest import csv_bytes, iris_like
from registry.models import ModelVersion

from client.tests.conftest import ROWS

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_login_keeps_the_tokens_private(cli, cli_home, owner):
    cli.login(owner.username)
    credentials = cli_home / "credentials.json"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli_home.stat().st_mode) == 0o700
    assert cli.json("versions", "nope", code=4)["error"]["code"] == "not_found"
    assert cli("logout").stdout.strip() == "Signed out"
    assert credentials.read_text() == f'{{"url": "{cli.server}"}}'  # no token left
    assert "Not signed in" in cli("versions", "iris", code=2).stderr


def test_push_alias_predict_batch_by_the_cli(server, cli, owner, team, tmp_path, iris_skops, iris_estimator):
    cli.login(owner.username)
    (tmp_path / "iris.skops").write_bytes(iris_skops)
    pushed = cli.json("push", str(tmp_path / "iris.skops"), "--model", "iris", "--team", "acme", "--alias",
                      "staging", "--metrics", '{"accuracy": 0.97}', "--git-commit", "abc123")
    assert (pushed["version"], pushed["status"], pushed["alias"]) == (1, "ready", "staging")
    assert pushed["metrics"] == {"accuracy": 0.97} and pushed["lineage"] == {"git_commit": "abc123"}
    human = cli("versions", "iris").stdout
    assert "staging" in human and "ready" in human and "skops" in human

    answer = cli.json("predict", "models:/iris@staging", "--data", str(ROWS))
    assert answer["version"] == 1
    assert answer["outputs"]["labels"] == iris_estimator.predict(np.array(ROWS)).tolist()
    assert "labels" in cli("predict", "iris/1", "--data", str(ROWS)).stdout

    values = iris_like(230, seed=3)
    (tmp_path / "scores.csv").write_bytes(csv_bytes(values))
    done = cli("batch", "submit", "iris@staging", str(tmp_path / "scores.csv"), "--id-column", "id", "--wait")
    assert "succeeded" in done.stdout and "230" in done.stdout
    assert "230/230" in done.stderr  # the progress bar's last state
    job_id = done.stdout.split()[1].rstrip(":")
    assert cli.json("batch", "status", job_id)["rows_done"] == 230
    cli("batch", "download", job_id, str(tmp_path / "out.parquet"))
    output = pq.read_table(tmp_path / "out.parquet")
    assert output.column("labels").to_pylist() == iris_estimator.predict(values).tolist()


def test_promotion_and_rollout_by_the_cli(server, cli, owner, maintainer, team, tmp_path, iris_skops, cli_home,
                                          monkeypatch):
    cli.login(owner.username)
    (tmp_path / "iris.skops").write_bytes(iris_skops)
    for _ in range(2):
        cli("push", str(tmp_path / "iris.skops"), "--model", "iris", "--team", "acme", "--alias", "staging")
    refused = cli.json("alias", "iris", "production", "1", code=5)  # protected: four eyes
    assert refused["error"]["code"] == "approval_required"
    request = cli.json("promote", "iris", "production", "1", "--reason", "accuracy holds")
    assert cli.json("approve", str(request["id"]), code=3)["error"]["code"] == "own_request"  # four eyes

    monkeypatch.setenv("MODELYARD_CONFIG_DIR", str(tmp_path / "maintainer"))
    cli.login(maintainer.username)
    approved = cli("approve", str(request["id"]), "--reason", "numbers hold")
    assert "approved" in approved.stdout and "production -> version 1" in approved.stdout

    cli("alias", "iris", "staging", "1")
    started = cli.json("rollout", "start", "iris", "staging", "2", "--steps", "10,50,100", "--step-seconds", "60",
                       "--reason", "new forest")
    assert (started["status"], started["stable"], started["candidate"]) == ("running", 1, 2)
    assert "running" in cli("rollout", "status", "iris", str(started["id"])).stdout
    assert cli.json("rollout", "abort", "iris", str(started["id"]), "--reason", "enough")["status"] == "aborted"
    assert cli.json("rollout", "status", "iris", "99", code=4)["error"]["code"] == "not_found"


def test_mlflow_directories_of_both_flavors_by_the_cli(server, cli, owner, team, write_mlflow, iris_estimator,
                                                       iris_onnx):
    cli.login(owner.username)
    sklearn_dir = write_mlflow("sklearn", iris_estimator, ROWS, name="mlflow-sklearn")
    onnx_dir = write_mlflow("onnx", iris_onnx[0], ROWS, name="mlflow-onnx")
    first = cli.json("push", str(sklearn_dir), "--model", "iris", "--team", "acme", "--alias", "staging")
    second = cli.json("push", str(onnx_dir), "--model", "iris")
    assert (first["format"], second["format"]) == ("skops", "onnx") and second["status"] == "ready"
    for version in (first, second):
        assert version["signature"]["inputs"]["columns"] == ["sepal_length", "sepal_width", "petal_length",
                                                             "petal_width"]
        assert version["tags"]["mlflow.mlflow_version"] == "2.16.2"
    assert first["lineage"] == {"source_run": "4f1c0ffee", "source": "runs:/4f1c0ffee/model"}
    assert second["lineage"] == {"source_run": "5e2d0ffee", "source": "runs:/5e2d0ffee/model"}
    assert ModelVersion.objects.get(version=1).input_example == ROWS
    held_out = iris_like(20, seed=9).tolist()
    want = iris_estimator.predict(np.array(held_out)).tolist()
    assert cli.json("predict", "iris@staging", "--data", str(held_out))["outputs"]["labels"] == want
    assert cli.json("predict", "models:/iris/2", "--data", str(held_out))["outputs"]["labels"] == want
