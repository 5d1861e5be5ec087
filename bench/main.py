"""The benchmark, start to end. Servers run one at a time so they never compete for the cores; each
worker class is measured in rounds of both servers, in alternating order."""

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
from bench.measure import ClassRun, ServerRun, measure
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


def _header(options: Options, git: dict[str, Any], models: dict[str, Any]) -> str:
    dirty = " + uncommitted changes" if git["uncommitted_changes"] else ""
    lines = [
        f"Modelyard bench: {_cpus()} CPUs, commit {git['commit']}{dirty}",
        f"wrk {options.wrk_threads} thread(s) on the same cores; {options.duration} s per scenario after "
        f"{options.warmup} s warm-up per model; worker classes, each for both servers: "
        f"{', '.join(options.worker_classes)}",
    ]
    for name, facts in models.items():
        note = f" ({facts['serving_note']})" if facts.get("serving_note") else ""
        lines.append(f"{name} v{facts['version']}: uploaded as {facts['format']}, "
                     f"served as {facts['serving_format']}{note}")
    return "\n".join(lines)


def _describe(gunicorn: dict[str, Any]) -> str:
    threads = "1 request at a time" if gunicorn["worker_class"] == "sync" else f"{gunicorn['threads']} threads"
    listening = "reuse_port (a listening socket per worker)" if gunicorn["reuse_port"] else "one shared socket"
    return f"{gunicorn['worker_class']}: {gunicorn['workers']} workers x {threads}, {listening}"


def _measure_class(options: Options, worker_class: str, workdir: Path, built: artifacts.Artifacts, token: str,
                   quiet: noise.Quiet) -> ClassRun:
    """``--rounds`` rounds of both servers, in alternating order (M F, F M, ...), so a drift of the machine
    over minutes weighs on both alike; the round with the median M/F ratio is the one reported."""
    gunicorn = environment.gunicorn_settings(options, worker_class)
    print(f"Worker class {_describe(gunicorn)}", flush=True)
    rounds = []
    for number in range(options.rounds):
        order = ("modelyard", "floor") if number % 2 == 0 else ("floor", "modelyard")
        servers = {label: _measure_server(label, options, worker_class, workdir, built, token, quiet, number)
                   for label in order if not (label == "floor" and options.skip_floor)}
        rounds.append(ClassRun(worker_class, gunicorn, servers["modelyard"], servers.get("floor")))
    return _median_round(options, rounds)


def _measure_server(label: str, options: Options, worker_class: str, workdir: Path, built: artifacts.Artifacts,
                    token: str, quiet: noise.Quiet, number: int) -> ServerRun:
    print(f"Round {number + 1}/{options.rounds}: measuring "
          f"{'Modelyard' if label == 'modelyard' else 'the floor (bare Django view)'} ...", flush=True)
    if label == "modelyard":
        return measure("modelyard", "config.wsgi:application", options.port,
                       environment.modelyard(options, workdir, worker_class), token, built, options, quiet,
                       workdir / f"modelyard-{worker_class}-{number}.log")
    return measure("floor", "bench.floor.wsgi:application", options.floor_port,
                   environment.floor(options, built, worker_class), token, built, options, quiet,
                   workdir / f"floor-{worker_class}-{number}.log")


def _median_round(options: Options, rounds: list[ClassRun]) -> ClassRun:
    if rounds[0].floor is None:
        return rounds[0]
    model = options.models[0]

    def ratio(run: ClassRun) -> float:
        floor = run.floor.results[model]["1row_c32"].rps if run.floor else 0.0
        return run.modelyard.results[model]["1row_c32"].rps / floor if floor else 0.0

    ratios = [round(ratio(run), 3) for run in rounds]
    median = sorted(rounds, key=ratio)[len(rounds) // 2]
    median.round_ratios = ratios
    return median


def _bench(options: Options, workdir: Path) -> int:
    # Every class's settings are checked before anything is measured: a refused one fails in seconds.
    for worker_class in options.worker_classes:
        environment.gunicorn_settings(options, worker_class)
    started = time.monotonic()
    print(f"Building the model (logistic regression, {artifacts.FEATURES} features) ...", flush=True)
    built = artifacts.build(workdir)
    print("Timing predict in process ...", flush=True)
    quiet = noise.Quiet(options.database_name, options.quiet_wait)
    quiet.wait()  # timings taken on a busy machine mislead
    timings = inprocess.measure(built, options.models)

    print(f"Preparing PostgreSQL ({options.database_url}) and Redis ({options.redis_url}) ...", flush=True)
    setup_env = environment.modelyard(options, workdir, options.worker_classes[0])
    for folder in ("data", "prometheus"):
        (workdir / folder).mkdir()
    prepare.reset_database(options.database_url)
    prepare.flush_redis(options.redis_url)
    prepare.migrate(setup_env)
    setup = prepare.setup_models(setup_env, built)
    token = setup["token"]

    runs = [_measure_class(options, worker_class, workdir, built, token, quiet)
            for worker_class in options.worker_classes]

    git = _git()
    found = [target for run in runs for target in report.targets(options, run)]
    print()
    print(_header(options, git, setup["models"]))
    for run in runs:
        print()
        print(f"gunicorn {_describe(run.gunicorn)} (both servers)")
        print(report.results_table(options, run))
        ready = f"Web worker ready (spawn to /readyz 200): Modelyard {run.modelyard.ready_s:.2f} s"
        if run.floor:
            ready += f", floor {run.floor.ready_s:.2f} s"
        print(f"{ready}; Modelyard's first predict after ready: {report.first_predicts(run.modelyard)}")
        if len(run.round_ratios) > 1:
            print(f"Rounds (M/F req/s, 1 row, 32 conns, {options.models[0]}), in order: "
                  f"{', '.join(f'{r:.3f}' for r in run.round_ratios)}; the table is the median round")
    print()
    print(report.inprocess_table(timings))
    print()
    print("Targets (Modelyard; M = Modelyard, F = floor):")
    print(report.targets_table(found))
    if _cpus() != 2:
        print(f"Note: this machine has {_cpus()} CPUs; the req/s target is stated for two cores.")
    for warning in report.warnings(options, runs):
        print(warning)
    print()
    print("Summary, 1-row JWT alias predict, Modelyard against the floor in the same run:")
    print(report.summary_table(options, runs, found))

    report.write_json(options.output, {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": _cpus(), "platform": platform.platform(), "python": platform.python_version()},
        "git": git,
        "options": {"duration_s": options.duration, "warmup_s": options.warmup, "wrk_threads": options.wrk_threads,
                    "batch_connections": options.batch_connections, "retries": options.retries,
                    "rounds": options.rounds,
                    "worker_classes": list(options.worker_classes)},
        "models": setup["models"], "in_process_us": timings,
        "runs": [run.as_dict() for run in runs],
        "elapsed_s": round(time.monotonic() - started, 1),
    }, found)
    print(f"\nResults written to {options.output} ({time.monotonic() - started:.0f} s)")
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
