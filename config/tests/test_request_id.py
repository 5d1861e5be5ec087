"""The request id: accepted from X-Request-ID or made, returned, on every log line of the request and
of the Celery tasks it queued; the prediction path logs nothing per request unless asked."""

import io
import logging
import re

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.serving_handler import ServingHandler, dispatch
from config.wsgi import application
from conftest import wait_for_status
from registry.tokens import RefreshToken

PREDICT = "/api/v1/models/iris/aliases/production/predict"


def call(path: str, body: bytes = b"{}", app=application, **headers: str) -> tuple[str, dict[str, str], bytes]:
    environ = {"REQUEST_METHOD": "POST" if body else "GET", "PATH_INFO": path, "SERVER_NAME": "testserver",
               "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
               **{f"HTTP_{name.upper()}": value for name, value in headers.items()}}
    answer: dict = {}
    out = b"".join(app(environ, lambda status, h: answer.update(status=status, headers=dict(h))))
    return answer["status"], answer["headers"], out


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [PREDICT, "/healthz", "/api/v1/models"])
def test_a_sane_request_id_is_returned_as_given_on_both_handlers(path):
    _, headers, _ = call(path, b"{}" if "predict" in path else b"", x_request_id="edge-7f3a.01")
    assert headers["X-Request-ID"] == "edge-7f3a.01"


@pytest.mark.parametrize("given", ["", "two words", "a\"quote", "x" * 129, "line\nbreak"])
def test_anything_else_gets_a_fresh_id(db, given):
    _, headers, _ = call("/healthz", b"", x_request_id=given)
    made = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}-[0-9a-f]+", made) and made != call("/healthz", b"")[1]["X-Request-ID"]


def bearer(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.mark.django_db(transaction=True)  # the WSGI handler closes connections at the end of each request
def test_a_prediction_logs_nothing_unless_asked(ready_iris, teammate, iris_rows, caplog, settings):
    body, auth = orjson.dumps({"inputs": iris_rows}), bearer(teammate)
    first = call(PREDICT, body, authorization=auth)
    assert first[0].startswith("200"), first[2]  # loaded, caches warm
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert call(PREDICT, body, authorization=auth)[0].startswith("200")
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []

    settings.MODELYARD_ACCESS_LOG = True
    from django.core.handlers.wsgi import WSGIHandler

    asked = dispatch(WSGIHandler(), ServingHandler())
    with caplog.at_level(logging.INFO, logger="modelyard.access"):
        call(PREDICT, body, app=asked, authorization=auth, x_request_id="asked-1")
    [line] = [r for r in caplog.records if r.name == "modelyard.access"]
    assert (line.status, line.path, line.method) == (200, PREDICT, "POST") and line.duration_ms > 0


@pytest.fixture
def worker_env() -> dict[str, str]:
    return {"MODELYARD_LOG_FORMAT": "json"}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_request_id_reaches_the_log_lines_of_the_task_it_queued(worker, as_user, maintainer, model, iris_onnx,
                                                                    settings):
    from pathlib import Path

    response = as_user(maintainer).post("/api/v1/models/iris/versions",
                                        {"file": SimpleUploadedFile("iris.onnx", iris_onnx[0])}, format="multipart",
                                        HTTP_X_REQUEST_ID="upload-4711")
    assert response.status_code == 201 and response["X-Request-ID"] == "upload-4711"
    assert wait_for_status(1).status == "ready"
    lines = [orjson.loads(line) for line in (Path(settings.DATA_DIR) / "worker.log").read_text().splitlines()
             if line.startswith("{")]
    ours = [line for line in lines if line.get("request_id") == "upload-4711"]
    assert ours and all(line["task"] == "registry.version_validate" and line["task_id"] for line in ours)
    assert any("ready" in line["event"] for line in ours)
    assert all({"timestamp", "level", "logger", "event"} <= set(line) for line in lines)
    banner = [line for line in (Path(settings.DATA_DIR) / "worker.log").read_text().splitlines()
              if line.strip() and not line.startswith("{") and "SecurityWarning" not in line]
    assert not any("[queues]" in line or "[tasks]" in line for line in banner)  # no banner, JSON only


def test_forked_workers_never_share_an_id_prefix():
    import os

    from config.request_id import _ids

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # as gunicorn forks its workers from a loaded app
        os.write(write, _ids.next().encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(read, 100).decode()
    assert theirs.split("-")[0] != _ids.next().split("-")[0]


@pytest.fixture
def web_env() -> dict[str, str]:
    return {"MODELYARD_LOG_FORMAT": "json"}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_gunicorn_writes_json_lines_only_its_access_log_included(web_server, settings):
    import time
    import urllib.request
    from pathlib import Path

    request = urllib.request.Request(f"{web_server}/healthz", headers={"X-Request-ID": "live-42"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["X-Request-ID"] == "live-42"
    time.sleep(0.5)  # the access line is written just after the answer
    lines = [line for line in (Path(settings.DATA_DIR) / "web.log").read_text().splitlines() if line.strip()]
    records = [orjson.loads(line) for line in lines]  # every line is JSON, gunicorn's own included
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["event"] for r in records)
    assert any(r["logger"] == "gunicorn.access" and "GET /healthz" in r["event"] for r in records)
