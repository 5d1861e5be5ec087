"""wrk, the load generator: C and epoll, so the client is never the Python-bound bottleneck."""

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError

LUA = Path(__file__).resolve().parent / "predict.lua"
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class LoadResult:
    connections: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    # wrk counts a status of 400 or more as a status error; socket errors are connect/read/write/timeout.
    non_2xx: int
    socket_errors: int
    # Filled in by measure.py: CPU other work took meanwhile (see noise.py), and how many runs it took.
    foreign_cores: float = 0.0
    attempts: int = 1

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed. Install it with: apt-get install wrk "
                         "(the benchmark needs a load generator that is not Python-bound)")
    return path


def run(url: str, bodies: Path, token: str, *, connections: int, seconds: int, threads: int,
        timeout_s: int) -> LoadResult:
    command = [require_wrk(), f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
               f"--timeout={timeout_s}s", "-s", str(LUA), url, "--", str(bodies), token]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish: {' '.join(command[:-1])}") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or not lines:
        raise BenchError(f"wrk failed (status {done.returncode}) on {url}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    data = json.loads(lines[-1][len(MARKER):])
    errors, latency = data["errors"], data["latency_us"]
    seconds_run = data["duration_us"] / 1e6
    return LoadResult(
        connections=connections, requests=data["requests"], seconds=round(seconds_run, 3),
        rps=round(data["requests"] / seconds_run, 1) if seconds_run else 0.0,
        p50_ms=latency["p50"] / 1000, p90_ms=latency["p90"] / 1000, p99_ms=latency["p99"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3), max_ms=latency["max"] / 1000,
        non_2xx=errors["status"],
        socket_errors=sum(errors[kind] for kind in ("connect", "read", "write", "timeout")),
    )
