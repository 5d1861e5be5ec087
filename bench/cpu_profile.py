"""Where a 1-row predict request's server CPU goes: `make profile` (.venv/bin/python bench/cpu_profile.py).

Sets up the database, Redis and models as `make bench` does, then for Modelyard and for the floor starts
gunicorn (platform/gunicorn.conf.py) with ONE worker and drives the JWT alias predict (ONNX, 1 row) with
wrk. Over one window without a profiler, the worker's CPU time (/proc: user + system) divided by the
requests it logged gives the CPU per request; over a second window py-spy samples the worker (only the
thread holding the GIL, so threads waiting are not counted) and bench/attribution.py puts each sample in
a category. The user CPU per request is split by the categories' sample shares; the kernel's time
(system CPU: TCP, syscalls) is shown apart, since Python samples cannot see it.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import artifacts, environment, load, noise, prepare, servers  # noqa: E402
from bench.attribution import CATEGORIES, Attribution, attribute  # noqa: E402
from bench.errors import BenchError  # noqa: E402
from bench.measure import check_answer, predict_path  # noqa: E402
from bench.options import REPO, WORKER_CLASSES, Options  # noqa: E402
from bench.options import parse as bench_options  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
_ERROR_LINE = re.compile(r'"POST [^"]*" [45]\d\d ')
PY_SPY = environment.VENV_BIN / "py-spy"


@dataclass
class Window:
    seconds: float
    requests: int
    user_s: float
    system_s: float
    foreign_cores: float
    errors: int = 0  # answers with status 400 or more: cheaper than a prediction, so they lower the figures

    @property
    def user_us(self) -> float:
        return self.user_s / self.requests * 1e6 if self.requests else 0.0

    @property
    def system_us(self) -> float:
        return self.system_s / self.requests * 1e6 if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Profile:
    label: str
    worker_class: str
    plain: Window  # no profiler attached: the CPU per request
    sampled: Window  # while py-spy sampled
    attribution: Attribution

    def category_us(self, category: str) -> float:
        return self.attribution.share(category) * self.plain.user_us

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "worker_class": self.worker_class,
            "cpu_us_per_request": {"user": round(self.plain.user_us, 1), "system": round(self.plain.system_us, 1)},
            "rps": round(self.plain.rps, 1), "requests": self.plain.requests, "errors": self.plain.errors,
            "sampled_window": {"requests": self.sampled.requests, "user_us": round(self.sampled.user_us, 1),
                               "system_us": round(self.sampled.system_us, 1)},
            "foreign_cores": [self.plain.foreign_cores, self.sampled.foreign_cores],
            "samples": dict(self.attribution.samples),
            "user_us_by_category": {c: round(self.category_us(c), 1) for c in CATEGORIES},
            "top_lines": {c: lines.most_common(5) for c, lines in self.attribution.lines.items() if lines},
        }


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/cpu_profile.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds per window, plain and sampled (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--rate", type=int, default=400, help="py-spy samples per second (default 400)")
    parser.add_argument("--worker-class", default="gthread",
                        help="comma-separated worker classes to profile (default gthread; gthread,sync for both)")
    parser.add_argument("--model", choices=("onnx", "sklearn"), default="onnx")
    parser.add_argument("--top", type=int, default=4, help="leaf lines shown per category (default 4)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "profile.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary dir, logs and py-spy output")
    args = parser.parse_args(argv)
    classes = tuple(c.strip() for c in args.worker_class.split(",") if c.strip())
    if not classes or set(classes) - set(WORKER_CLASSES):
        parser.error(f"--worker-class takes {' and/or '.join(WORKER_CLASSES)}")
    args.classes = classes
    return args


def _cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (all its threads)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def _window(server: servers.Server, pid: int, options: Options, during: Any) -> Window:
    meter = noise.Meter(options.database_name)
    since = servers.log_size(server)
    user0, system0 = _cpu(pid)
    started = time.monotonic()
    meter.start()
    during()
    user1, system1 = _cpu(pid)
    seconds = time.monotonic() - started
    foreign = meter.foreign_cores()
    time.sleep(0.05)  # the last answers' access-log lines
    requests = sum(servers.requests_per_worker(server, since, [pid]))
    return Window(seconds, requests, user1 - user0, system1 - system0, round(foreign, 2), _errors(server, since))


def _errors(server: servers.Server, since: int) -> int:
    with server.log.open("rb") as log:
        log.seek(since)
        return sum(1 for raw in log if _ERROR_LINE.search(raw.decode(errors="replace")))


def _py_spy(pid: int, seconds: int, rate: int, output: Path) -> None:
    command = [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
               "--gil", "--format", "raw", "--output", str(output)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or not output.exists():
        raise BenchError(f"py-spy failed (status {done.returncode}); it needs ptrace rights on the worker "
                         f"(root, or CAP_SYS_PTRACE):\n{done.stdout[-1500:]}{done.stderr[-1500:]}")


def _profile_server(label: str, app: str, port: int, env: dict[str, str], token: str, built: artifacts.Artifacts,
                    args: argparse.Namespace, options: Options, worker_class: str, workdir: Path) -> Profile:
    env = {**env, "GUNICORN_WORKERS": "1"}
    log = workdir / f"{label}-{worker_class}.log"
    server = servers.start(label, app, port, env, log)
    try:
        servers.wait_ready(server)
        servers.wait_all_ready(server)
        pids = servers.workers(server)
        if len(pids) != 1:
            raise BenchError(f"{label}: expected one gunicorn worker, found {len(pids)}")
        pid = pids[0]
        check_answer(label, port, args.model, built.one_row_bodies.read_bytes().splitlines()[0], 1, token)
        url = f"http://127.0.0.1:{port}{predict_path(args.model)}"
        load.run(url, built.one_row_bodies, token, connections=args.connections, seconds=2, threads=1, timeout_s=5)
        print(f"  {label} ({worker_class}, 1 worker): {args.connections} connections, "
              f"{args.seconds} s plain then {args.seconds} s under py-spy ...", flush=True)
        total = 2 * args.seconds + 3
        process = load.start(url, built.one_row_bodies, token, connections=args.connections, seconds=total,
                             threads=1, timeout_s=5)
        try:
            time.sleep(0.5)
            plain = _window(server, pid, options, lambda: time.sleep(args.seconds))
            raw = workdir / f"{label}-{worker_class}.raw"
            sampled = _window(server, pid, options, lambda: _py_spy(pid, args.seconds, args.rate, raw))
        finally:
            load.stop(process)
        return Profile(label, worker_class, plain, sampled, attribute(raw.read_text()))
    finally:
        servers.stop(server)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(modelyard: Profile, floor: Profile) -> str:
    def pct(profile: Profile, category: str) -> str:
        return f"{profile.attribution.share(category) * 100:.0f} %"

    rows = [["us of CPU per request", "Modelyard", "share", "floor", "share", "M - F"]]
    for category, title in CATEGORIES.items():
        if not (modelyard.attribution.samples[category] or floor.attribution.samples[category]):
            continue
        mine, base = modelyard.category_us(category), floor.category_us(category)
        rows.append([f"  {title}", f"{mine:.0f}", pct(modelyard, category), f"{base:.0f}", pct(floor, category),
                     f"{mine - base:+.0f}"])
    rows.append(["user CPU (split above by py-spy's samples)", f"{modelyard.plain.user_us:.0f}", "",
                 f"{floor.plain.user_us:.0f}", "", f"{modelyard.plain.user_us - floor.plain.user_us:+.0f}"])
    rows.append(["kernel CPU (TCP, syscalls)", f"{modelyard.plain.system_us:.0f}", "",
                 f"{floor.plain.system_us:.0f}", "", f"{modelyard.plain.system_us - floor.plain.system_us:+.0f}"])
    total_m = modelyard.plain.user_us + modelyard.plain.system_us
    total_f = floor.plain.user_us + floor.plain.system_us
    rows.append(["total CPU per request", f"{total_m:.0f}", "", f"{total_f:.0f}", "", f"{total_m - total_f:+.0f}"])
    rows.append(["req/s of the one worker (no profiler)", f"{modelyard.plain.rps:,.0f}", "", f"{floor.plain.rps:,.0f}",
                 "", ""])
    rows.append(["answers with status >= 400 (no profiler)",
                 f"{modelyard.plain.errors:,} of {modelyard.plain.requests:,}", "",
                 f"{floor.plain.errors:,} of {floor.plain.requests:,}", "", ""])
    rows.append(["py-spy samples (GIL held)", f"{modelyard.attribution.total:,}", "", f"{floor.attribution.total:,}",
                 "", ""])
    rows.append(["other processes' CPU, plain/sampled (cores)",
                 f"{modelyard.plain.foreign_cores:.2f}/{modelyard.sampled.foreign_cores:.2f}", "",
                 f"{floor.plain.foreign_cores:.2f}/{floor.sampled.foreign_cores:.2f}", "", ""])
    return _table(rows)


def top_lines(profile: Profile, count: int) -> str:
    lines = [f"Top leaf lines per category, {profile.label} ({profile.worker_class}); us per request:"]
    for category, title in CATEGORIES.items():
        found = profile.attribution.lines[category]
        if not found:
            continue
        lines.append(f"  {title.split(':')[0]} ({profile.category_us(category):.0f} us)")
        per_sample = profile.plain.user_us / profile.attribution.total if profile.attribution.total else 0.0
        for where, samples in found.most_common(count):
            lines.append(f"    {samples * per_sample:6.1f}  {where}")
    return "\n".join(lines)


def _run(args: argparse.Namespace, workdir: Path) -> int:
    load.require_wrk()
    if not PY_SPY.exists():
        raise BenchError(f"{PY_SPY} is missing: make install (requirements-dev.txt pins py-spy)")
    options = bench_options(["--models", args.model])
    started = time.monotonic()
    print("Building the model and preparing PostgreSQL and Redis ...", flush=True)
    built = artifacts.build(workdir)
    setup_env = environment.modelyard(options, workdir, args.classes[0])
    for folder in ("data", "prometheus"):
        (workdir / folder).mkdir()
    prepare.reset_database(options.database_url)
    prepare.flush_redis(options.redis_url)
    prepare.migrate(setup_env)
    token = prepare.setup_models(setup_env, built)["token"]
    noise.Quiet(options.database_name, 60).wait()

    results = []
    for worker_class in args.classes:
        environment.gunicorn_settings(options, worker_class)  # a refused setting fails here, with the reason
        modelyard = _profile_server("modelyard", "config.wsgi:application", options.port,
                                    environment.modelyard(options, workdir, worker_class), token, built, args,
                                    options, worker_class, workdir)
        floor = _profile_server("floor", "bench.floor.wsgi:application", options.floor_port,
                                environment.floor(options, built, worker_class), token, built, args, options,
                                worker_class, workdir)
        results.append((modelyard, floor))

    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    print()
    print(f"CPU per 1-row predict request ({args.model}, JWT via alias), commit {git.stdout.strip()}"
          f"{' + uncommitted changes' if dirty else ''}; {args.connections} wrk connections on one gunicorn worker")
    for modelyard, floor in results:
        print()
        print(f"gunicorn {modelyard.worker_class}, 1 worker:")
        print(report(modelyard, floor))
        print()
        print(top_lines(modelyard, args.top))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "commit": git.stdout.strip(), "dirty": bool(dirty),
        "model": args.model, "connections": args.connections, "seconds": args.seconds, "rate": args.rate,
        "profiles": [[m.as_dict(), f.as_dict()] for m, f in results],
    }, indent=2) + "\n")
    print(f"\nResults written to {args.output} ({time.monotonic() - started:.0f} s)")
    return 0


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="modelyard-profile-"))
    try:
        return _run(args, workdir)
    except BenchError as exc:
        print(f"\nprofile: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nprofile: interrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"Kept the data dir, server logs and py-spy output in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
