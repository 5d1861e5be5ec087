"""The benchmark, start to end. Servers run one at a time so they never compete for the cores."""

import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

from bench import artifacts, environment, inprocess, noise, prepare, report
from bench.errors import BenchError
from bench.load import require_wrk
from bench.measure import ServerRun, measure
from bench.options import REPO, Options, parse


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Treated like Ctrl-C so that the finally blocks stop gunicorn and remove the temp dir.
    raise KeyboardInterrupt


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_changes": bool(git("status", "--porcelain"))}


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _header(options: Options, gunicorn: dict[str, Any], git: dict[str, Any], models: dict[str, Any]) -> str:
    dirty = " + uncommitted changes" if git["uncommitted_changes"] else ""
    lines = [
        f"Modelyard bench: {_cpus()} CPUs, commit {git['commit']}{dirty}",
        f"gunicorn (both servers): {gunicorn['worker_class']}, {gunicorn['workers']} workers x {gunicorn['threads']} "
        f"threads; wrk {options.wrk_threads} thread(s) on the same cores; {options.duration} s per scenario "
        f"after {options.warmup} s warm-up per model",
    ]
    for name, facts in models.items():
        note = f" ({facts['serving_note']})" if facts.get("serving_note") else ""
        lines.append(f"{name} v{facts['version']}: uploaded as {facts['format']}, "
                     f"served as {facts['serving_format']}{note}")
    return "\n".join(lines)


def _bench(options: Options, workdir: Path) -> int:
    gunicorn = environment.gunicorn_settings(options)
    print(f"Building the model (logistic regression, {artifacts.FEATURES} features) ...", flush=True)
    built = artifacts.build(workdir)
    print("Timing predict in process ...", flush=True)
    quiet = noise.Quiet(options.database_name, options.quiet_wait)
    quiet.wait()  # timings taken on a busy machine mislead
    timings = inprocess.measure(built, options.models)

    print(f"Preparing PostgreSQL ({options.database_url}) and Redis ({options.redis_url}) ...", flush=True)
    modelyard_env = environment.modelyard(options, workdir)
    for folder in ("data", "prometheus"):
        (workdir / folder).mkdir()
    prepare.reset_database(options.database_url)
    prepare.flush_redis(options.redis_url)
    prepare.migrate(modelyard_env)
    setup = prepare.setup_models(modelyard_env, built)
    token = setup["token"]

    print("Measuring Modelyard ...", flush=True)
    modelyard = measure("modelyard", "config.wsgi:application", options.port, modelyard_env, token, built, options,
                        quiet, workdir / "modelyard.log")
    floor: ServerRun | None = None
    if not options.skip_floor:
        print("Measuring the floor (bare Django view) ...", flush=True)
        floor = measure("floor", "bench.floor.wsgi:application", options.floor_port,
                        environment.floor(options, built), token, built, options, quiet, workdir / "floor.log")

    git = _git()
    found = report.targets(options, modelyard, floor)
    print()
    print(_header(options, gunicorn, git, setup["models"]))
    print()
    print(report.results_table(options, modelyard, floor))
    print()
    print(report.inprocess_table(timings))
    print()
    ready = f"Web worker ready (spawn to /readyz 200): Modelyard {modelyard.ready_s:.2f} s"
    if floor:
        ready += f", floor {floor.ready_s:.2f} s"
    firsts = ", ".join(f"{model} {ms:.1f} ms" for model, ms in modelyard.first_predict_ms.items())
    print(f"{ready}; Modelyard's first predict after ready: {firsts}")
    print()
    print("Targets (Modelyard):")
    print(report.targets_table(found))
    if _cpus() != 2:
        print(f"Note: this machine has {_cpus()} CPUs; the req/s target is stated for two cores.")
    for warning in report.warnings(options, modelyard, floor):
        print(warning)

    report.write_json(options.output, {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": _cpus(), "platform": platform.platform(), "python": platform.python_version()},
        "git": git, "gunicorn": gunicorn,
        "options": {"duration_s": options.duration, "warmup_s": options.warmup, "wrk_threads": options.wrk_threads,
                    "batch_connections": options.batch_connections, "retries": options.retries},
        "models": setup["models"], "in_process_us": timings,
        "modelyard": modelyard.as_dict(), "floor": floor.as_dict() if floor else None,
    }, found)
    print(f"\nResults written to {options.output}")
    return 1 if options.strict and any(t.passed is False for t in found) else 0


def main(argv: list[str]) -> int:
    options = parse(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="modelyard-bench-"))
    try:
        require_wrk()
        return _bench(options, workdir)
    except BenchError as exc:
        print(f"\nbench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbench: interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if options.keep:
            print(f"Kept the data dir and server logs in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
