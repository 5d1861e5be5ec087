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
    # Connections each gunicorn worker held a second into the run, and requests each worker logged in
    # its access log during the run (most first, idle workers as 0).
    per_worker: tuple[int, ...] = ()
    worker_requests: tuple[int, ...] = ()
    # Attempts of this scenario (the reported one or not) in which a worker served under its share.
    imbalanced_attempts: int = 0

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors

    @property
    def worker_shares(self) -> tuple[float, ...]:
        """Each worker's fraction of the requests, most first."""
        total = sum(self.worker_requests)
        return tuple(n / total for n in self.worker_requests) if total else ()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "worker_shares": [round(share, 4) for share in self.worker_shares]}


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed. Install it with: apt-get install wrk "
                         "(the benchmark needs a load generator that is not Python-bound)")
    return path


def start(url: str, bodies: Path, token: str, *, connections: int, seconds: int, threads: int,
          timeout_s: int) -> subprocess.Popen[str]:
    command = [require_wrk(), f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
               f"--timeout={timeout_s}s", "-s", str(LUA), url, "--", str(bodies), token]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def collect(process: subprocess.Popen[str], url: str, connections: int, seconds: int) -> LoadResult:
    try:
        stdout, stderr = process.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise BenchError(f"wrk did not finish against {url}") from None
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if process.returncode != 0 or not lines:
        raise BenchError(f"wrk failed (status {process.returncode}) on {url}:\n{stdout[-2000:]}{stderr[-2000:]}")
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


def run(url: str, bodies: Path, token: str, *, connections: int, seconds: int, threads: int,
        timeout_s: int) -> LoadResult:
    process = start(url, bodies, token, connections=connections, seconds=seconds, threads=threads,
                    timeout_s=timeout_s)
    try:
        return collect(process, url, connections, seconds)
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """Ends wrk if it still runs (interrupted, or restarted): it must not outlive the bench."""
    if process.poll() is None:
        process.kill()
        process.communicate()
