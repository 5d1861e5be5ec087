"""One server's run: start, time readiness, check real answers, warm up, then every scenario with wrk."""

import json
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import load, noise, servers
from bench.artifacts import BATCH_ROWS, Artifacts
from bench.errors import BenchError
from bench.options import Options

# wrk is restarted at most this often to spread its connections; each try costs CONNECT_SETTLE_S.
CONNECT_TRIES = 20
CONNECT_SETTLE_S = 0.3


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


def predict_path(model: str) -> str:
    return f"/api/v1/models/bench-{model}/aliases/production/predict"


def _first_body(path: Path) -> bytes:
    with path.open("rb") as bodies:
        return bodies.readline().strip()


def _check(label: str, port: int, model: str, body: bytes, rows: int, token: str) -> list[float]:
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


def balanced(per_worker: tuple[int, ...], connections: int) -> bool:
    """Every worker holds at least one connection, and a quarter of its fair share.

    One connection is enough to keep a worker's core busy (measured: 31+1 serves as many req/s as 16+16,
    32+0 half as many); the quarter keeps latencies from coming mostly from one queue. Judged only when
    there are connections for every worker and the workers hold (nearly) all of them: sync workers take
    one at a time and leave the rest in the listen queue.
    """
    if len(per_worker) < 2 or connections < len(per_worker) or sum(per_worker) < 0.9 * connections:
        return True
    return min(per_worker) >= max(1, connections // len(per_worker) // 4)


def _start_spread(server: servers.Server, url: str, bodies: Path, token: str, connections: int, timeout_s: int,
                  options: Options) -> tuple[subprocess.Popen[str], tuple[int, ...], int]:
    """Start wrk, and start it again while its connections sit unevenly on the workers.

    wrk opens all its connections at once and keeps them; with the client on the same two cores, the
    worker that happens to be scheduled often accepts all of them, and one process (one GIL) then serves
    the whole load: req/s halves at random. Remote clients arriving over time spread out; so must wrk's.
    """
    for tries in range(1, CONNECT_TRIES + 1):
        process = load.start(url, bodies, token, connections=connections, seconds=options.duration,
                             threads=options.wrk_threads, timeout_s=timeout_s)
        try:
            time.sleep(CONNECT_SETTLE_S)
            per_worker = servers.connections_per_worker(server)
        except BaseException:  # Ctrl-C: wrk must not outlive the bench
            load.stop(process)
            raise
        if balanced(per_worker, connections) or tries == CONNECT_TRIES:
            return process, per_worker, tries
        load.stop(process)
    raise AssertionError("unreachable")


def _metered(server: servers.Server, url: str, bodies: Path, token: str, connections: int, timeout_s: int,
             options: Options, quiet: noise.Quiet) -> load.LoadResult:
    """One scenario, measured again (up to --retries) while other processes took the CPU."""
    meter = noise.Meter(options.database_name)
    attempt = 1
    while True:
        meter.start()
        process, per_worker, tries = _start_spread(server, url, bodies, token, connections, timeout_s, options)
        try:
            result = load.collect(process, url, connections, options.duration)
        finally:
            load.stop(process)
        foreign = meter.foreign_cores()
        if foreign < noise.NOISY_CORES or attempt > options.retries:
            return replace(result, foreign_cores=round(foreign, 2), attempts=attempt, per_worker=per_worker,
                           connect_tries=tries)
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
    busy = quiet.wait()
    if busy >= noise.NOISY_CORES:
        print(f"  other processes use {busy:.2f} cores; starting {label} anyway", flush=True)
    server = servers.start(label, app, port, env, log)
    try:
        run = ServerRun(label, servers.wait_ready(server))
        print(f"  {label}: ready in {run.ready_s:.2f} s", flush=True)
        one_row, batch = _first_body(artifacts.one_row_bodies), _first_body(artifacts.batch_bodies)
        for model in options.models:
            started = time.perf_counter()
            run.answers[model] = _check(label, port, model, one_row, 1, token)
            run.first_predict_ms[model] = round((time.perf_counter() - started) * 1000, 2)
            _check(label, port, model, batch, BATCH_ROWS, token)
        for model in options.models:
            _measure_model(run, server, model, artifacts, token, options, quiet)
        return run
    finally:
        servers.stop(server)
