"""The prediction routes take the lean WSGI handler; everything else the full middleware stack."""

import io

import pytest

from config.serving_handler import serving_path


@pytest.mark.parametrize("path", [
    "/api/v1/models/iris/aliases/production/predict", "/api/v1/models/iris/versions/3/predict",
    "/api/v1/models/iris/aliases/production/invocations", "/v2", "/v2/health/ready", "/v2/models/iris/infer",
    "/v1/models/iris:predict", "/v1/models/iris/versions/3:predict", "/v1/models/iris/labels/production:predict",
    "/v1/models/iris",
])
def test_serving_paths_take_the_lean_handler(path):
    assert serving_path().match(path)


@pytest.mark.parametrize("path", [
    "/api/v1/models", "/api/v1/models/iris", "/api/v1/models/iris/versions", "/admin/", "/api/auth/token",
    "/api/v1/models/iris/aliases/production", "/v2x", "/api/v1/models/iris/versions/3/predict/extra",
    "/v1/models", "/v1x/models/iris:predict",
])
def test_everything_else_takes_the_full_stack(path):
    assert not serving_path().match(path)


def call(path: str, headers: dict[str, str] | None = None) -> tuple[str, dict[str, str], bytes]:
    from config.wsgi import application

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "testserver", "SERVER_PORT": "80",
               "HTTP_HOST": "testserver", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b"{}"),
               "CONTENT_LENGTH": "2", "CONTENT_TYPE": "application/json", **(headers or {})}
    answer: dict = {}
    body = b"".join(application(environ, lambda status, h: answer.update(status=status, headers=dict(h))))
    return answer["status"], answer["headers"], body


def test_the_lean_handler_still_authenticates_and_sends_security_headers(db):
    status, headers, body = call("/api/v1/models/iris/aliases/production/predict")
    assert status.startswith("401") and b"not_authenticated" in body
    assert headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in headers
    # Only the full stack's clickjacking middleware sets this: its absence shows the lean handler answered.
    assert "X-Frame-Options" not in headers
    _, full_headers, _ = call("/api/v1/models")
    assert full_headers["X-Frame-Options"] == "DENY"
