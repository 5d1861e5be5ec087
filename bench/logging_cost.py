"""What the request id and the access log cost a 1-row prediction (docs/deployment.md, "Logs").

In one process, on the lean serving handler (config/serving_handler.py), the same request through
three middleware set-ups, interleaved in rounds so that a busy machine affects all three alike:
  without   the serving middleware as before logging (no request id)
  default   with the request id (ContextVar + X-Request-ID header), nothing logged: what ships
  access    the request id and MODELYARD_ACCESS_LOG on: one JSON line per request (to /dev/null)
Prints the median and p90 microseconds per request of each, and the differences to "without".

    .venv/bin/python bench/logging_cost.py [--requests 4000] [--rounds 8]
"""

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.update({"MODELYARD_ENV": "development", "DEBUG": "false", "MODELYARD_LOG_FORMAT": "json",
                   "MODELYARD_DATA_DIR": tempfile.mkdtemp(prefix="modelyard-logbench-"),
                   "DJANGO_SETTINGS_MODULE": "config.settings"})
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)


def setup() -> tuple[bytes, str]:
    import django

    django.setup()
    import orjson
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from registry import services
    from registry.demo.artifacts import iris_onnx
    from registry.tokens import RefreshToken
    from registry.uploads import uploaded_file_from_bytes

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password=None)
    team = services.team_create(actor=user, slug="bench", name="Bench")
    model = services.model_create(actor=user, team=team, name="iris", protected_aliases=[])
    data, example = iris_onnx()
    with uploaded_file_from_bytes("iris.onnx", data) as upload:
        version = services.version_create(actor=user, model=model, upload=upload, meta=services.VersionMetadata())
    services.alias_set(actor=user, model=model, name="production",
                       version=services.version_validate(version_id=version.id))
    return orjson.dumps({"inputs": [example[0]]}), f"Bearer {RefreshToken.for_user(user).access_token}"


def handler(middleware: list[str], access_log: bool):  # type: ignore[no-untyped-def]
    from django.conf import settings

    from config.serving_handler import ServingHandler

    settings.SERVING_MIDDLEWARE, settings.MODELYARD_ACCESS_LOG = middleware, access_log
    return ServingHandler()


def timed(app, body: bytes, auth: str, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    path = "/api/v1/models/iris/aliases/production/predict"
    samples = []
    for _ in range(count):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "bench", "SERVER_PORT": "80",
                   "HTTP_HOST": "localhost", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
                   "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": auth}
        started = time.perf_counter_ns()
        chunks = app(environ, lambda status, headers: None)
        b"".join(chunks)
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    body, auth = setup()
    from django.conf import settings

    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the run
    shipped = list(settings.SERVING_MIDDLEWARE)
    without = [m for m in shipped if m != "config.request_id.RequestIdMiddleware"]
    apps = {"without": handler(without, False), "default": handler(shipped, False), "access": handler(shipped, True)}
    for app in apps.values():
        timed(app, body, auth, 300)  # load, caches, allocators
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(args.rounds):
        for name, app in apps.items():
            samples[name] += timed(app, body, auth, args.requests // args.rounds)
    base = statistics.median(samples["without"])
    print(f"{'set-up':10} {'median us':>10} {'p90 us':>8} {'vs without':>11}")
    for name, values in samples.items():
        median, p90 = statistics.median(values), statistics.quantiles(values, n=10)[-1]
        print(f"{name:10} {median:10.1f} {p90:8.1f} {median - base:+10.1f}")
    print(f"{args.requests} requests each, {args.rounds} interleaved rounds, load average {os.getloadavg()[0]:.2f}")
    alone()


def alone() -> None:
    """The middleware by itself around a view that does nothing: its own cost, without the noise of a request."""
    import timeit

    from django.conf import settings
    from django.http import HttpResponse
    from django.test import RequestFactory

    from config.request_id import RequestIdMiddleware

    settings.MODELYARD_ACCESS_LOG = False  # as shipped
    response = HttpResponse()
    request, given = RequestFactory().get("/"), RequestFactory().get("/", HTTP_X_REQUEST_ID="edge-1234")
    middleware = RequestIdMiddleware(lambda _: response)
    for label, call in (("made id", lambda: middleware(request)), ("given id", lambda: middleware(given)),
                        ("bare view", lambda: response)):
        best = min(timeit.repeat(call, number=20000, repeat=5)) / 20000 * 1e6
        print(f"middleware alone, {label:9}: {best:.2f} us per request")


if __name__ == "__main__":
    main()
