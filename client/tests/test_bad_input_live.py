"""Bad input through the CLI: a clear message, a non-zero exit, and nothing left on the server."""

import pytest
from conftest import settings
from registry.models import AuditEvent

from client.tests.conftest import PASSWORD, ROWS, nothing_on_server, stored
from modelyard import Client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_damaged_files_are_refused_before_anything_is_sent(cli, owner, team, tmp_path, iris_onnx, iris_skops):
    cli.login(owner.username)
    files_before = stored(settings.DATA_DIR)
    (tmp_path / "half.onnx").write_bytes(iris_onnx[0][: len(iris_onnx[0]) // 2])
    flipped = bytearray(iris_skops)
    flipped[len(flipped) // 3] ^= 0xFF
    (tmp_path / "flipped.skops").write_bytes(bytes(flipped))
    (tmp_path / "cut.skops").write_bytes(iris_skops[:-40])
    (tmp_path / "empty.onnx").write_bytes(b"")
    for name, message in (("half.onnx", "half.onnx is not a valid ONNX model"),
                          ("flipped.skops", "flipped.skops is a damaged zip archive"),
                          ("cut.skops", "cut.skops is a damaged zip archive"),
                          ("empty.onnx", "empty.onnx is empty"),
                          ("absent.onnx", "absent.onnx: no such file")):
        refused = cli("push", str(tmp_path / name), "--model", "iris", "--team", "acme", code=2)
        assert message in refused.stderr, refused.stderr
    nothing_on_server()
    assert stored(settings.DATA_DIR) == files_before


def test_a_file_the_server_refuses_leaves_no_version(cli, owner, team, tmp_path, web):
    with Client(web, username=owner.username, password=PASSWORD) as client:
        client.create_model("iris", "acme")
    (tmp_path / "notes.bin").write_bytes(b"these are not model weights\n" * 100)
    cli.login(owner.username)
    files_before = stored(settings.DATA_DIR)
    refused = cli.json("push", str(tmp_path / "notes.bin"), "--model", "iris", code=2)
    assert refused["error"]["code"] == "unsupported_format" and refused["error"]["field"] == "file"
    nothing_on_server(models_before=1)
    assert not AuditEvent.objects.filter(action="version.create").exists()
    assert stored(settings.DATA_DIR) == files_before


def test_a_refused_file_takes_the_model_its_push_created_with_it(cli, owner, team, tmp_path, web):
    (tmp_path / "notes.bin").write_bytes(b"these are not model weights\n" * 100)
    cli.login(owner.username)
    refused = cli.json("push", str(tmp_path / "notes.bin"), "--model", "fresh", "--team", "acme", code=2)
    assert refused["error"]["code"] == "unsupported_format"
    nothing_on_server(models_before=0)  # the model the push made is gone again
    assert AuditEvent.objects.filter(action="model.delete", target="model:fresh").count() == 1


def test_an_mlflow_directory_with_a_missing_file(cli, owner, team, write_mlflow, iris_estimator, iris_onnx):
    cli.login(owner.username)
    for flavor, model, missing in (("sklearn", iris_estimator, "model.pkl"),
                                   ("sklearn", iris_estimator, "input_example.json"),
                                   ("onnx", iris_onnx[0], "model.onnx")):
        path = write_mlflow(flavor, model, ROWS, name=f"{flavor}-without-{missing}")
        (path / missing).unlink()
        refused = cli("push", str(path), "--model", "iris", "--team", "acme", code=2)
        assert "is incomplete: the" in refused.stderr and f"{missing} is missing" in refused.stderr
    nothing_on_server()


def test_a_wrong_token_or_password(cli, owner, team, tmp_path, monkeypatch, iris_skops, web):
    (tmp_path / "iris.skops").write_bytes(iris_skops)
    monkeypatch.setenv("MODELYARD_TOKEN", "forged")
    monkeypatch.setenv("MODELYARD_URL", web)
    refused = cli("push", str(tmp_path / "iris.skops"), "--model", "iris", "--team", "acme", code=3)
    assert "Authentication credentials were not provided or are invalid" in refused.stderr
    monkeypatch.delenv("MODELYARD_TOKEN")
    wrong = cli("login", "--url", web, "-u", owner.username, "--password-stdin", input="guess\n", code=3)
    assert "401" in wrong.stderr
    nothing_on_server()
    assert not AuditEvent.objects.filter(action__startswith="model").exists()
