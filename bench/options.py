"""Command-line options. `make bench` passes none, so BENCH_ARGS (a make or shell variable) is read too."""

import argparse
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
# The worker classes platform/gunicorn.conf.py accepts; one `make bench` measures both, one after the other.
WORKER_CLASSES = ("gthread", "sync")


@dataclass(frozen=True)
class Options:
    duration: int
    warmup: int
    batch_connections: int
    wrk_threads: int
    workers: str | None
    threads: str | None
    worker_classes: tuple[str, ...]
    reuse_port: str | None
    port: int
    floor_port: int
    database_url: str
    redis_url: str
    models: tuple[str, ...]
    skip_floor: bool
    retries: int
    rounds: int
    quiet_wait: int
    keep: bool
    strict: bool
    output: Path

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark Modelyard's predict endpoint against a bare-Django floor (see bench/README.md).",
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per scenario (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring each model (default 2)")
    parser.add_argument("--batch-connections", type=int, default=8,
                        help="connections for the 1,000-row scenario (default 8: 2 workers x 4 threads)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2, one per core)")
    # None means: leave GUNICORN_* from the environment, or platform/gunicorn.conf.py's defaults, alone.
    parser.add_argument("--workers", help="GUNICORN_WORKERS for both servers")
    parser.add_argument("--threads", help="GUNICORN_THREADS for both servers' gthread runs (sync runs have 1)")
    parser.add_argument("--worker-class", default=os.environ.get("GUNICORN_WORKER_CLASS") or ",".join(WORKER_CLASSES),
                        help="comma-separated worker classes to measure, each for both servers, one after the "
                             "other (default: GUNICORN_WORKER_CLASS if set, else gthread,sync)")
    parser.add_argument("--reuse-port", choices=("true", "false"),
                        help="GUNICORN_REUSE_PORT for both servers (default: platform/gunicorn.conf.py's)")
    parser.add_argument("--port", type=int, default=18431, help="Modelyard's port (default 18431)")
    parser.add_argument("--floor-port", type=int, default=18432, help="the floor's port (default 18432)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/modelyard_bench"),
        help="PostgreSQL database, dropped and re-created each run (env BENCH_DATABASE_URL)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
                        help="Redis database, flushed each run (env BENCH_REDIS_URL; default db 5)")
    parser.add_argument("--models", default="onnx,sklearn", help="comma-separated subset of onnx,sklearn")
    parser.add_argument("--retries", type=int, default=3,
                        help="re-runs of a scenario during which other processes used the CPU (default 3)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds per worker class, each measuring both servers, in alternating order; the "
                             "round with the median req/s ratio is reported (default 5)")
    parser.add_argument("--quiet-wait", type=int, default=180,
                        help="seconds the whole run may spend waiting for other work to leave the CPU and measuring "
                             "busy scenarios again (default 180)")
    parser.add_argument("--skip-floor", action="store_true", help="measure Modelyard only (no ratios)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir and server logs")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "latest.json",
                        help="where the JSON results go (default bench/results/latest.json)")
    return parser


def parse(argv: list[str]) -> Options:
    parser = _parser()
    args = parser.parse_args(shlex.split(os.environ.get("BENCH_ARGS", "")) + argv)
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    classes = tuple(dict.fromkeys(c.strip() for c in args.worker_class.split(",") if c.strip()))
    if not classes or set(classes) - set(WORKER_CLASSES):
        parser.error(f"--worker-class takes {' and/or '.join(WORKER_CLASSES)}, not {args.worker_class!r}")
    unknown = set(models) - {"onnx", "sklearn"}
    if unknown or not models:
        parser.error(f"--models takes onnx and/or sklearn, not {args.models!r}")
    if min(args.duration, args.batch_connections, args.wrk_threads, args.rounds) < 1:
        parser.error("--duration, --batch-connections, --wrk-threads and --rounds must be at least 1")
    if min(args.warmup, args.retries, args.quiet_wait) < 0:
        parser.error("--warmup, --retries and --quiet-wait cannot be negative")
    return Options(
        duration=args.duration, warmup=args.warmup, batch_connections=args.batch_connections,
        wrk_threads=args.wrk_threads, workers=args.workers, threads=args.threads, worker_classes=classes,
        reuse_port=args.reuse_port,
        port=args.port, floor_port=args.floor_port, database_url=args.database_url, redis_url=args.redis_url,
        models=models, skip_floor=args.skip_floor, retries=args.retries, rounds=args.rounds,
        quiet_wait=args.quiet_wait,
        keep=args.keep, strict=args.strict, output=args.output,
    )
