"""The fast lane (config/serving_lane.py) answers prediction routes as the full serving handler would:
same bodies, statuses, security headers and request ids; anything it does not take falls through."""

import io
from typing import Any

import orjson
import pytest

from config.serving_handler import ServingHandler, is_serving_view
from config.serving_lane import LIMIT, FastLane, static_headers
from registry.tokens import RefreshToken

PREDICT = "/api/v1/models/iris/aliases/production/predict"


def environ(path: str, body: bytes = b"{}", **headers: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "SERVER_NAME": "testserver",
            "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
            **headers}


def call(app: Any, path: str, body: bytes = b"{}", **headers: str) -> tuple[int, dict[str, str], bytes]:
    answer: dict[str, Any] = {}
    chunks = app(environ(path, body, **headers), lambda status, h: answer.update(status=status, headers=h))
    content = b"".join(chunks)
    return int(answer["status"].split()[0]), dict(answer["headers"]), content


@pytest.fixture
def lane() -> FastLane:
    return FastLane(ServingHandler(), is_serving_view)


# Without a wrapping transaction: the full handler's request signals close connections, as in production.
def test_a_prediction_answers_as_through_the_full_serving_handler(transactional_db, lane, teammate, ready_iris,
                                                                  iris_rows):
    token = str(RefreshToken.for_user(teammate).access_token)
    body, auth = orjson.dumps({"inputs": iris_rows}), {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    slow = call(ServingHandler(), PREDICT, body, **auth, HTTP_X_REQUEST_ID="given-1")
    fast = call(lane, PREDICT, body, **auth, HTTP_X_REQUEST_ID="given-1")
    assert PREDICT in lane.found  # resolved once, kept
    again = call(lane, PREDICT, body, **auth)
    assert fast[0] == slow[0] == again[0] == 200, (fast, slow, again)
    assert orjson.loads(fast[2]) == orjson.loads(slow[2]) == orjson.loads(again[2])
    assert fast[1] == slow[1]  # every header, the request id given by the caller included
    assert again[1]["X-Request-ID"] != "given-1" and again[1]["Modelyard-Version"] == "1"


@pytest.mark.parametrize("token", [None, "forged"])
def test_refusals_are_the_same_envelope(transactional_db, lane, token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    slow, fast = call(ServingHandler(), PREDICT, **auth), call(lane, PREDICT, **auth)
    assert fast[0] == slow[0] == 401 and fast[2] == slow[2]
    assert {k: v for k, v in fast[1].items() if k != "X-Request-ID"} == \
        {k: v for k, v in slow[1].items() if k != "X-Request-ID"}
    assert orjson.loads(fast[2])["error"]["code"] == "not_authenticated"


def test_what_the_lane_does_not_take_falls_through(db, lane):
    status, _, body = call(lane, "/api/v1/models/ir\x00is/aliases/production/predict")
    assert status == 400 and orjson.loads(body)["error"]["code"] == "invalid_path"  # the NUL middleware
    status, _, _ = call(lane, "/api/v1/models/iris/versions/x/predict")  # no such route
    assert status == 404
    assert lane.found == {}


def test_security_headers_are_read_off_the_serving_middleware(settings):
    plain = dict(static_headers(secure=False))
    assert plain["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in plain
    settings.SECURE_HSTS_SECONDS = 3600
    assert "Strict-Transport-Security" in dict(static_headers(secure=True))
    assert "Strict-Transport-Security" not in dict(static_headers(secure=False))


def test_an_http_request_where_tls_is_required_is_redirected_by_the_middleware(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    status, headers, _ = call(FastLane(ServingHandler(), is_serving_view), PREDICT)
    assert status == 301 and headers["Location"].startswith("https://")


def test_the_kept_paths_are_bounded(db, lane):
    for i in range(LIMIT + 10):
        call(lane, f"/api/v1/models/m{i}/aliases/production/predict")
    assert 0 < len(lane.found) <= LIMIT


def test_a_prediction_leaves_nothing_for_the_garbage_collector(transactional_db, lane, teammate, ready_iris,
                                                               iris_rows):
    """DRF's reference cycles are cut when the view returns: what a request made is freed at once."""
    import gc
    import weakref

    from rest_framework.request import Request

    token = str(RefreshToken.for_user(teammate).access_token)
    body, auth = orjson.dumps({"inputs": iris_rows}), {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    made: list[weakref.ref] = []
    original = Request.__init__

    def tracked(self: Request, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(weakref.ref(self))

    call(lane, PREDICT, body, **auth)  # the route loads; the next requests take the steady path
    gc.disable()
    try:
        Request.__init__ = tracked
        for _ in range(3):
            assert call(lane, PREDICT, body, **auth)[0] == 200
        alive = sum(ref() is not None for ref in made)  # read before the collector may run again
    finally:
        Request.__init__ = original
        gc.enable()
    assert len(made) == 3 and alive == 0
