"""`make bench-rollout`: an alias under a 50/50 canary against the plain alias, same server, same model file.

Registers two models from the same ONNX file (bench-plain: production -> v1; bench-canary: production ->
v1 with v2 at weight 50 through the registry's traffic service), starts gunicorn as deployed, and loads
each alias with wrk in alternating rounds (plain, canary, plain, ...), so drift in the machine hits both.
Callers carry 256 distinct Modelyard-Routing-Keys, so the canary really answers from both versions.
Drops and re-creates the database `modelyard_rollout_bench` and flushes Redis db 6.

    .venv/bin/python bench/rollout.py [--seconds 5] [--rounds 3] [--connections 32]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATABASE = "modelyard_rollout_bench"
SETUP = """
from django.contrib.auth import get_user_model
from registry import services
from registry.demo.artifacts import iris_onnx
from registry.services.traffic import traffic_split_set
from registry.tokens import RefreshToken
data, example = iris_onnx()
user = get_user_model().objects.create_user(username="bench", password=None)
team = services.team_create(actor=user, slug="bench", name="Benchmark")
for name in ("bench-plain", "bench-canary"):
    model = services.model_create(actor=user, team=team, name=name, protected_aliases=[])
    services.version_publish_local(actor=user, model=model, filename="iris.onnx", data=data, input_example=example)
    second = services.version_publish_local(actor=user, model=model, filename="iris.onnx", data=data,
                                            input_example=example, alias="candidate")
    if name == "bench-canary":
        traffic_split_set(actor=user, model=model, alias="production", candidate=second, weight=50)
print("TOKEN " + str(RefreshToken.for_user(user).access_token))
"""


def _env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": "redis://127.0.0.1:6379/6", "MODELYARD_DATA_DIR": str(workdir), "MODELYARD_ENV": "development",
            "DEBUG": "false", "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"), "GUNICORN_WORKERS": "2",
            # One model is measured at a time: let it use every request thread, so no answer is a 503.
            "MODELYARD_MODEL_THREAD_SHARE": "1"}


def _prepare(env: dict[str, str]) -> str:
    import psycopg
    import redis

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=REPO, check=True)
    done = subprocess.run([python, "manage.py", "shell", "-c", SETUP], env=env, cwd=REPO, check=True,
                          capture_output=True, text=True)
    return next(line[6:] for line in done.stdout.splitlines() if line.startswith("TOKEN "))


def _serve(env: dict[str, str], workdir: Path, port: int) -> subprocess.Popen:
    log = (workdir / "gunicorn.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "platform/gunicorn.conf.py", "--bind",
                               f"127.0.0.1:{port}", "config.wsgi:application"], env=env, cwd=REPO, stdout=log,
                              stderr=subprocess.STDOUT)
    deadline, ready = time.monotonic() + 60, 0
    while ready < 10 and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
            ready += 1
        except OSError:
            time.sleep(0.1)
    if ready < 10:
        server.terminate()
        raise SystemExit(f"gunicorn never became ready; see {workdir / 'gunicorn.log'}")
    return server


def _versions(url: str, token: str, body: bytes) -> dict[int, int]:
    """Which versions answer 256 distinct callers (the first calls also load v2 in every worker)."""
    seen: dict[int, int] = {}
    for key in range(256):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Modelyard-Routing-Key": f"caller-{key}"}
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            version = int(response.headers["Modelyard-Version"])
            seen[version] = seen.get(version, 0) + 1
    return seen


def _wrk(url: str, body_file: Path, token: str, args: argparse.Namespace) -> dict:
    done = subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "-s",
                           str(REPO / "bench" / "rollout.lua"), url, "--", str(body_file), token, "256"],
                          capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("ROLLOUT_JSON "))
    result = json.loads(line[13:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="modelyard-rollout-bench-"))
    (workdir / "prometheus").mkdir()
    env = _env(workdir)
    server = None
    try:
        token = _prepare(env)
        server = _serve(env, workdir, args.port)
        body = json.dumps({"inputs": [[5.1, 3.5, 1.4, 0.2]]}).encode()
        (workdir / "body.json").write_bytes(body)
        urls = {name: f"http://127.0.0.1:{args.port}/api/v1/models/bench-{name}/aliases/production/predict"
                for name in ("plain", "canary")}
        _versions(urls["canary"], token, body)
        time.sleep(1)  # v2 preloads in the background in each worker
        print(f"versions answering the canary alias, 256 callers: {_versions(urls['canary'], token, body)}")
        results: dict[str, list[dict]] = {"plain": [], "canary": []}
        _wrk(urls["plain"], workdir / "body.json", token, argparse.Namespace(**{**vars(args), "seconds": 2}))
        for _ in range(args.rounds):
            for name, url in urls.items():
                results[name].append(_wrk(url, workdir / "body.json", token, args))
        return _report(results)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


def _report(results: dict[str, list[dict]]) -> int:
    median = {name: statistics.median(r["rps"] for r in runs) for name, runs in results.items()}
    for name, runs in results.items():
        rounds = ", ".join(f"{r['rps']:.0f}" for r in runs)
        p50 = statistics.median(r["p50_us"] for r in runs) / 1000
        errors = sum(r["status_errors"] for r in runs)
        print(f"{name:>6} alias: median {median[name]:.0f} req/s (rounds {rounds}), p50 {p50:.2f} ms, errors {errors}")
    ratio = median["canary"] / median["plain"]
    verdict = "PASS" if ratio >= 0.9 else "MISS"
    print(f"alias under a 50/50 canary / plain alias: {ratio:.3f} ({verdict}: target within 10%)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
