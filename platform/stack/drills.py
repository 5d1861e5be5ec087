"""`make drills`: the production topology of `make stack` on private PostgreSQL and Redis, then faults caused on
purpose with traffic running. Each drill prints what it did and what it counted; any loss fails the run.

    .venv/bin/python platform/stack/drills.py [--state DIR] [--only newcomer web redis postgres worker disk]
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the project's Django-free model builders (registry.demo, modelkit.tests)

import drills_faults as faults  # noqa: E402
import drills_steps as steps  # noqa: E402
from drillkit import Stack, check, client, wait_for  # noqa: E402
from topology import free_port  # noqa: E402

# Short leases and a fast rollout tick, so a redelivery or a step happens within seconds (production: minutes).
# Batch tasks of two 20-row chunks: the fault drills' jobs keep many tasks, each of them joining chunks.
FAST = {"MODELYARD_ACCESS_TOKEN_MINUTES": "120", "MODELYARD_BATCH_CHUNK_ROWS": "20",
        "MODELYARD_BATCH_CHUNKS_PER_TASK": "2",
        "MODELYARD_BATCH_LEASE_SECONDS": "4", "MODELYARD_BATCH_REQUEUE_SECONDS": "5",
        "MODELYARD_VALIDATION_LEASE_SECONDS": "4", "MODELYARD_ROLLOUT_TICK_SECONDS": "1",
        "MODELYARD_TOKEN_THROTTLE": "1000/min"}


class Context:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.token = ""
        self.password = ""
        self.iris_rows: list[list[float]] = []
        self.versions: dict[str, int] = {}


def say(line: str) -> None:
    print(line, flush=True)


# --- the newcomer flow, through nginx over TLS ------------------------------------------------------
def newcomer(ctx: Context) -> None:
    from registry.demo.artifacts import iris_onnx

    stack, password = ctx.stack, secrets.token_urlsafe(18)
    stack.manage("shell", "-c", "from django.contrib.auth import get_user_model as g; g().objects.filter("
                 f"username='drill').exists() or g().objects.create_user('drill', password='{password}')")
    with client(stack) as anonymous:
        answer = anonymous.post("/api/auth/token", json={"username": "drill", "password": password})
        check(answer.status_code == 200, f"token: {answer.status_code} {answer.text}")
    ctx.token, ctx.password = answer.json()["access"], password
    data, ctx.iris_rows = iris_onnx()
    with client(stack, ctx.token) as api:
        check(api.post("/api/v1/teams", json={"slug": "drills", "name": "Drills"}).status_code == 201, "team")
        check(api.post("/api/v1/models", json={"team": "drills", "name": "iris"}).status_code == 201, "model")
        upload = api.post("/api/v1/models/iris/versions", files={"file": ("iris.onnx", data)})
        check(upload.status_code == 201, f"upload: {upload.status_code} {upload.text}")
        ready = wait_for(lambda: _ready(api, "iris", 1), 120, "ready version")
        check(api.put("/api/v1/models/iris/aliases/staging", json={"version": 1}).status_code == 200, "alias")
        predicted = api.post("/api/v1/models/iris/aliases/staging/predict", json={"inputs": ctx.iris_rows})
        check(predicted.status_code == 200, f"predict: {predicted.status_code} {predicted.text}")
        rows = steps.batch_rows(api, "iris", "staging", 50, [5.1, 3.5, 1.4, 0.2])
    ctx.versions["iris"] = 1
    say(f"  newcomer flow over {stack.info['https']}: token, team, model, upload ({len(data)} bytes), "
        f"ready ({ready['status']}), alias staging -> 1, predict {predicted.status_code} {predicted.text[:60]}, "
        f"batch job of 50 rows -> {rows} output rows")
    check(rows == 50, "batch output rows")
    at_rest(ctx, data)
    edge(ctx)


def at_rest(ctx: Context, model: bytes) -> None:
    """Every object in the bucket is sealed (registry/envelope.py's header, the stack's key id), none plaintext."""
    env = ctx.stack.info["env"]
    if env.get("MODELYARD_ARTIFACT_STORAGE") != "s3":
        return say("  at rest: file storage (--storage file), not checked")
    import boto3

    s3 = boto3.client("s3", endpoint_url=env["MODELYARD_S3_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    bucket = env["MODELYARD_S3_BUCKET"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    bodies = [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys]
    sealed = sum(1 for body in bodies if body.startswith(b"\x89MYENC\x01\n") and b"stack-1" in body[:40])
    say(f"  at rest: {len(keys)} objects in S3 bucket {bucket}, {sealed} sealed with key stack-1, "
        f"{sum(1 for body in bodies if model in body)} holding the model's plaintext")
    check(keys and sealed == len(keys), "an artifact or batch file stored unencrypted")
    check(not any(model in body for body in bodies), "the model's bytes are readable in the bucket")


def _ready(api, name: str, number: int) -> dict | None:  # noqa: ANN001
    version = api.get(f"/api/v1/models/{name}/versions/{number}").json()
    if version.get("status") == "failed":
        raise AssertionError(f"version {number} failed: {version.get('status_message')}")
    return version if version.get("status") == "ready" else None


def edge(ctx: Context) -> None:
    """What nginx itself does: HTTPS with HSTS, the redirect, round robin, the body limit, the rate limit."""
    stack = ctx.stack
    with client(stack) as http:
        secure = http.get("/healthz")
        check("max-age=" in secure.headers.get("Strict-Transport-Security", ""), "HSTS over HTTPS")
        plain = httpx_get(stack.info["http"] + "/api/v1/models")
        check(plain.status_code == 301 and plain.headers["Location"].startswith(stack.info["https"]), "redirect")
        offset = stack.nginx_offset()
        for _ in range(20):
            http.get("/healthz")
        upstreams = steps.upstream_counts(stack.nginx_lines(offset))
        check(len(upstreams) == 2 and min(upstreams.values()) >= 8, f"round robin: {upstreams}")
        big = http.post("/api/v1/teams", content=b"x" * (17 * 1024 * 1024),
                        headers={"Content-Type": "application/json"})
        check(big.status_code == 413 and big.json()["error"]["code"] == "too_large", f"body limit: {big.status_code}")
        answers = [http.post("/api/auth/token", json={"username": "nobody", "password": "x"}) for _ in range(30)]
        # nginx's own 429s carry code rate_limited (the app's lockout answers 429 too, with its own code).
        limited = sum(1 for a in answers if a.status_code == 429 and a.json()["error"]["code"] == "rate_limited")
        check(limited >= 10, f"edge rate limit: {[a.status_code for a in answers]}")
    say(f"  edge: HSTS over HTTPS, HTTP -> {plain.headers['Location']} (301), round robin over 20 requests "
        f"{dict(upstreams)}, 17 MiB body -> 413 JSON, 30 quick sign-ins -> {limited} x 429 at the edge")


def httpx_get(url: str):  # noqa: ANN201
    import httpx

    return httpx.get(url, follow_redirects=False, timeout=10)


DRILLS = {"newcomer": newcomer, "web": faults.web_kill, "redis": faults.redis_restart,
          "postgres": faults.postgres_restart, "worker": faults.worker_kill, "disk": faults.disk_full}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, default=Path("/tmp/modelyard-drills"))
    parser.add_argument("--only", nargs="*", choices=list(DRILLS), default=list(DRILLS))
    parser.add_argument("--stack-arg", action="append", default=[], help="passed on to run.py")
    args = parser.parse_args(argv)
    subprocess.run(["rm", "-rf", str(args.state)], check=True)
    disk = faults.small_disk(args.state / "data", "disk" in args.only)
    started = time.monotonic()
    stack = Stack(args.state, ["--http-port", str(free_port()), "--https-port", str(free_port()),
                               "--postgres-port", str(free_port()), "--redis-port", str(free_port()),
                               "--data-dir", str(args.state / "data"), *args.stack_arg,
                               *[f"--env={k}={v}" for k, v in FAST.items()]])
    say(f"[drills] stack up in {time.monotonic() - started:.0f}s: {stack.info['https']}, storage "
        f"{stack.info['env'].get('MODELYARD_ARTIFACT_STORAGE', 'file')}, data dir on {disk}")
    ctx, failed = Context(stack), []
    try:
        for name in ["newcomer", *[n for n in args.only if n != "newcomer"]]:
            say(f"[drill] {name}")
            begun = time.monotonic()
            try:
                DRILLS[name](ctx)
                say(f"[drill] {name}: passed in {time.monotonic() - begun:.0f}s")
            except Exception as exc:  # a crash fails this drill, and the others still run
                failed.append(name)
                say(f"[drill] {name}: FAILED: {type(exc).__name__}: {exc}")
                if name == "newcomer":
                    break
    finally:
        stack.stop()
        faults.release_disk(args.state / "data")
    verdict = "all passed" if not failed else "FAILED: " + ", ".join(failed)
    say(f"[drills] {verdict} in {time.monotonic() - started:.0f}s; logs in {args.state / 'logs'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
