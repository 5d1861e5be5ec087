"""One server's run: start, time readiness, check real answers, warm up, then every scenario with wrk."""

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import load, noise, servers
from bench.artifacts import BATCH_ROWS, Artifacts
from bench.errors import BenchError
from bench.options import Options

# When, into a run, the connections each worker holds are read (wrk opens them all at its start).
SPREAD_LOOK_S = 1.0
LOG_SETTLE_S = 0.1
# A worker that serves less than half of its fair share of the requests (1/workers) marks an imbalance:
# with 2 workers, under 25 %. Measured: when all 32 keep-alive connections sit on one gthread worker, the
# other serves 0 % and req/s drops by half.
MIN_FAIR_SHARE = 0.5


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    batch: bool
    connections: int

    @property
    def title(self) -> str:
        return f"{self.label}, {self.connections} conn{'' if self.connections == 1 else 's'}"


def scenarios(options: Options) -> list[Scenario]:
    return [
        Scenario("1row_c1", "1 row", False, 1),
        Scenario("1row_c32", "1 row", False, 32),
        Scenario(f"{BATCH_ROWS}rows", f"{BATCH_ROWS:,} rows", True, options.batch_connections),
    ]


@dataclass
class ServerRun:
    label: str
    ready_s: float
    first_predict_ms: dict[str, float] = field(default_factory=dict)
    # Probabilities answered for the first 1-row body, to check both servers run the same model.
    answers: dict[str, list[float]] = field(default_factory=dict)
    results: dict[str, dict[str, load.LoadResult]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ready_s": round(self.ready_s, 3), "first_predict_ms": self.first_predict_ms,
                "scenarios": {model: {key: result.as_dict() for key, result in by_key.items()}
                              for model, by_key in self.results.items()}}


@dataclass
class ClassRun:
    """Both servers measured under one gunicorn worker class."""

    worker_class: str
    gunicorn: dict[str, Any]
    modelyard: ServerRun
    floor: ServerRun | None
    # M/F req/s at 32 connections (1 row, first model) of every round; this run is the median one.
    round_ratios: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"worker_class": self.worker_class, "gunicorn": self.gunicorn, "modelyard": self.modelyard.as_dict(),
                "floor": self.floor.as_dict() if self.floor else None, "round_ratios": self.round_ratios}


def predict_path(model: str) -> str:
    return f"/api/v1/models/bench-{model}/aliases/production/predict"


def _first_body(path: Path) -> bytes:
    with path.open("rb") as bodies:
        return bodies.readline().strip()


def check_answer(label: str, port: int, model: str, body: bytes, rows: int, token: str) -> list[float]:
    """One real request; anything but a 200 with one answer per row stops the bench with the server's words."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    try:
        status, payload = servers.call(port, "POST", predict_path(model), body, headers)
    except OSError as exc:
        raise BenchError(f"{label} {predict_path(model)}: {type(exc).__name__}: {exc}") from None
    if status != 200:
        raise BenchError(f"{label} answered {status} to POST {predict_path(model)} ({rows} rows):\n"
                         f"{payload[:1000].decode(errors='replace')}")
    try:
        probabilities = json.loads(payload)["outputs"]["probabilities"]
    except (ValueError, KeyError, TypeError):
        raise BenchError(f"{label} answered 200 without outputs.probabilities: {payload[:500]!r}") from None
    if len(probabilities) != rows:
        raise BenchError(f"{label} answered {len(probabilities)} rows of probabilities for {rows} input rows")
    return probabilities[0]


def spread_ok(result: load.LoadResult) -> bool | None:
    """Every worker served at least MIN_FAIR_SHARE of its fair share of the requests, in every attempt.

    None when it cannot be judged: fewer connections than workers (one keep-alive connection is served
    by one worker), or no requests counted.
    """
    workers = len(result.worker_requests)
    if workers < 2 or result.connections < workers or not sum(result.worker_requests):
        return None
    return min(result.worker_shares) >= MIN_FAIR_SHARE / workers and not result.imbalanced_attempts


def _metered(server: servers.Server, url: str, bodies: Path, token: str, connections: int, timeout_s: int,
             options: Options, quiet: noise.Quiet) -> load.LoadResult:
    """One scenario, measured again (up to --retries, within the quiet budget) while other processes took the
    CPU; the attempt they disturbed least is kept. wrk starts once per measurement: where its connections
    land is part of what is measured."""
    meter = noise.Meter(options.database_name)
    attempt = 1
    best: load.LoadResult | None = None  # the least disturbed attempt is the one reported
    imbalanced = 0  # but an imbalance in any attempt counts
    while True:
        pids = servers.workers(server)
        since = servers.log_size(server)
        started = time.monotonic()
        meter.start()
        process = load.start(url, bodies, token, connections=connections, seconds=options.duration,
                             threads=options.wrk_threads, timeout_s=timeout_s)
        try:
            time.sleep(min(SPREAD_LOOK_S, options.duration / 2))
            per_worker = servers.connections_per_worker(server)
            result = load.collect(process, url, connections, options.duration)
        finally:
            load.stop(process)
        time.sleep(LOG_SETTLE_S)  # the last answers' access-log lines are written just after they are sent
        foreign = meter.foreign_cores()
        worker_requests = servers.requests_per_worker(server, since, pids)
        result = replace(result, foreign_cores=round(foreign, 2), attempts=attempt, per_worker=per_worker,
                         worker_requests=worker_requests)
        imbalanced += spread_ok(result) is False
        if best is None or result.foreign_cores < best.foreign_cores:
            best = result
        if foreign < noise.NOISY_CORES or attempt > options.retries or not quiet.spend(time.monotonic() - started):
            return replace(best, attempts=attempt, imbalanced_attempts=imbalanced)
        print(f"    other processes used {foreign:.2f} cores meanwhile: waiting for quiet, then again", flush=True)
        quiet.wait()
        attempt += 1


def _measure_model(run: ServerRun, server: servers.Server, model: str, artifacts: Artifacts, token: str,
                   options: Options, quiet: noise.Quiet) -> None:
    url = f"http://127.0.0.1:{server.port}{predict_path(model)}"
    if options.warmup:
        # Warm caches, connections and branch predictors in every worker, and let the CPU clock settle.
        load.run(url, artifacts.one_row_bodies, token, connections=32, seconds=options.warmup,
                 threads=options.wrk_threads, timeout_s=5)
    run.results[model] = {}
    for scenario in scenarios(options):
        bodies = artifacts.batch_bodies if scenario.batch else artifacts.one_row_bodies
        print(f"  {run.label:9} {model:7} {scenario.title} ...", flush=True)
        run.results[model][scenario.key] = _metered(server, url, bodies, token, scenario.connections,
                                                    10 if scenario.batch else 5, options, quiet)


def measure(label: str, app: str, port: int, env: dict[str, str], token: str, artifacts: Artifacts,
            options: Options, quiet: noise.Quiet, log: Path) -> ServerRun:
    """Start the server, check it, measure every scenario of every model, stop it."""
    busy = quiet.wait()
    if busy >= noise.NOISY_CORES:
        print(f"  other processes use {busy:.2f} cores; starting {label} anyway", flush=True)
    server = servers.start(label, app, port, env, log)
    try:
        run = ServerRun(label, servers.wait_ready(server))
        print(f"  {label}: ready in {run.ready_s:.2f} s", flush=True)
        if not servers.wait_all_ready(server):
            print(f"  {label}: not every worker answered /readyz within 30 s; measuring anyway", flush=True)
        one_row, batch = _first_body(artifacts.one_row_bodies), _first_body(artifacts.batch_bodies)
        for model in options.models:
            started = time.perf_counter()
            run.answers[model] = check_answer(label, port, model, one_row, 1, token)
            run.first_predict_ms[model] = round((time.perf_counter() - started) * 1000, 2)
            check_answer(label, port, model, batch, BATCH_ROWS, token)
        for model in options.models:
            _measure_model(run, server, model, artifacts, token, options, quiet)
        return run
    finally:
        servers.stop(server)
