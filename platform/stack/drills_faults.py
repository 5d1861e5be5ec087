"""The fault drills of `make drills` (platform/stack/drills.py runs them in order on one stack)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from drillkit import Traffic, check, client, wait_for
from drills_steps import (
    UPSTREAM,
    ensure_candidate,
    ensure_looper,
    exactly_once,
    iris_variant,
    predict_requests,
    submit_job,
    summary,
    upload,
    upstream_counts,
    wait_job,
    wait_ready,
)


def say(line: str) -> None:
    print(line, flush=True)


# --- drill: kill -9 one web process under load --------------------------------------------------
def web_kill(ctx) -> None:  # noqa: ANN001
    stack = ctx.stack
    victim = stack.status()["web-1"]
    port = f"127.0.0.1:{victim['port']}"
    with Traffic(stack, ctx.token, predict_requests(ctx), threads_per_kind=3, rate=15) as traffic:
        time.sleep(4)
        offset, killed_at = stack.nginx_offset(), time.time()
        os.killpg(victim["pid"], signal.SIGKILL)  # gunicorn's master and both its workers, at once
        wait_for(lambda: not _group_alive(victim["pid"]), 10, "the killed processes to be gone", every=0.001)
        dead_at = time.time()
        wait_for(lambda: stack.pid("web-1") != victim["pid"], 30, "restart of web-1 by the supervisor")
        restarted_at = time.time()
        back = wait_for(lambda: upstream_counts(stack.nginx_lines(offset)).get(port, 0) >= 5, 90,
                        "requests answered by the restarted web-1")
        back_at = time.time()
        time.sleep(2)
    after = stack.nginx_lines(offset)
    # In flight: sent before the processes were gone (a SIGKILLed process with threads takes tens of milliseconds
    # to close its sockets; until then the kernel still queues connections for it), answered after the kill.
    in_flight = [a for a in traffic.answers if a.start <= dead_at and a.end >= killed_at]
    # A 503 "overloaded" with Retry-After is the app shedding load on this busy machine (a request that waited
    # past MODELYARD_QUEUE_WAIT_SECONDS for a model slot), not a request lost to the kill: counted apart.
    shed = [a for a in traffic.answers if a.status == 503 and a.retry_after and '"overloaded"' in a.body]
    failed = [a for a in traffic.answers if a.status != 200 and a not in shed]
    outside = [a for a in failed if a not in in_flight]
    failed_on = Counter(m.group(2).split(", ")[-1] for line in after
                        if (m := UPSTREAM.search(line)) and m.group(1) not in ("200", "503"))  # 503: shed
    retried = sum(1 for line in after if (m := UPSTREAM.search(line)) and "," in m.group(2))
    say(f"  did: kill -9 the process group of web-1 (gunicorn master pid {victim['pid']} and its workers) under "
        f"6 callers; the stack supervisor restarted it {restarted_at - killed_at:.1f}s "
        f"later; nginx sent it requests again {back_at - killed_at:.1f}s after the kill ({bool(back)})")
    say(f"  counted: {summary(traffic)}; in flight at the kill (sent before the processes were gone, "
        f"{(dead_at - killed_at) * 1000:.0f} ms after the signal): {len(in_flight)}; failed: {len(failed)} "
        f"({dict(Counter(a.status for a in failed))}, by upstream {dict(failed_on)}, sent "
        f"{', '.join(f'{(a.start - killed_at) * 1000:.0f}' for a in failed) or '-'} ms after the signal), failed "
        f"outside the kill: {len(outside)}; shed by the app (503 overloaded, Retry-After): {len(shed)}; retried on "
        f"the other process by nginx: {retried}; answered after the "
        f"kill by "
        f"{dict(upstream_counts(after))}")
    check(not outside, f"requests failed that were not in flight at the kill: {outside[:3]}")
    check(all(a.kind == "predict" for a in failed), "an idempotent GET failed (nginx should have retried it)")
    check(set(failed_on) <= {port}, f"failures on the live process: {failed_on}")


# --- drill: restart Redis during traffic, a batch job and a rollout -------------------------------
def redis_restart(ctx) -> None:  # noqa: ANN001
    stack = ctx.stack
    with client(stack, ctx.token) as api:
        ensure_looper(ctx, api)
        candidate = ensure_candidate(ctx, api)
        # 80 requests a second in all: under the edge's limit of 100 per client address.
        with Traffic(stack, ctx.token, predict_requests(ctx), threads_per_kind=2, rate=20) as traffic:
            rollout = api.post("/api/v1/models/iris/rollouts", json={
                "alias": "staging", "version": candidate, "strategy": "canary", "steps": [20, 50, 100],
                "step_seconds": 3, "guards": {"min_requests": 100}})
            check(rollout.status_code == 201, f"rollout: {rollout.status_code} {rollout.text}")
            path = f"/api/v1/models/iris/rollouts/{rollout.json()['id']}"
            first = wait_for(lambda: _first_step(api, path), 120, "first step", every=0.5)
            check(first["kind"] == "advanced", f"the rollout never got its first step: {first}")
            job_id = submit_job(api, "looper", "batch", 400, [800000.0] * 4)  # 10 tasks: Redis stops mid-job
            done_before = wait_for(lambda: _chunks_done(stack, job_id), 60, "a first chunk done", every=0.05)
            down_at = time.time()
            stack.ctl("stop redis")
            time.sleep(3)
            stack.ctl("start redis")
            up_at = time.time()
            done_at_start = _chunks_done(stack, job_id)
            detail = wait_for(lambda: (d := _rollout(api, path))["status"] not in ("running", "paused") and d,
                              180, "end of the rollout", every=0.5)
            wait_job(api, job_id)
            rows = exactly_once(api, job_id, 400)
    report_outage(traffic, "Redis", down_at, up_at)
    advanced = [e["weight_after"] for e in detail["events"] if e["kind"] == "advanced"]
    decided_after = [f"{e['kind']} {e['weight_after']}% ({e['rule']})" for e in detail["events"]
                     if _epoch(e["at"]) > up_at and e["kind"] in ("advanced", "completed", "rolled_back")]
    attempts = stack.sql("SELECT count(*), sum(attempts) FROM batch_batchchunk c JOIN batch_batchjob j "
                         "ON c.job_id = j.id WHERE j.uuid = %s", job_id)[0]
    say(f"  rollout: {detail['status']}, steps applied {advanced}, decisions after the restart {decided_after}; "
        f"batch job: {rows}, {attempts[0]} chunks in {attempts[1]} deliveries ({done_before} done when Redis "
        f"stopped, {done_at_start} when it was back)")
    check(done_before < attempts[0], "the batch job had finished before Redis stopped")
    check(advanced == sorted(set(advanced)), f"a step applied twice: {advanced}")
    check(bool(decided_after), "the rollout made no decision after the restart")
    # Completed, or rolled back by a guard on its evidence (the latency guard compares p95 over a few hundred
    # requests, which a loaded 2-core machine can tip): either way it went on deciding after the restart.
    check(detail["status"] == "completed" or (detail["status"] == "rolled_back" and decided_after),
          f"rollout {detail['status']} {advanced}")


def _first_step(api, path: str) -> dict | None:  # noqa: ANN001
    """The first step's event; after 100 s of waiting for web workers to load the candidate, the last wait."""
    events = _rollout(api, path)["events"]
    advanced = [e for e in events if e["kind"] == "advanced"]
    if advanced:
        return advanced[0]
    started = _epoch(events[0]["at"]) if events else time.time()
    waiting = [e for e in events if e["kind"] == "waiting"]
    return waiting[-1] if waiting and time.time() - started > 100 else None


def _chunks_done(stack, job_id: str) -> int:  # noqa: ANN001
    return stack.sql("SELECT count(*) FROM batch_batchchunk c JOIN batch_batchjob j ON c.job_id = j.id "
                     "WHERE j.uuid = %s AND c.state = 'done'", job_id)[0][0]


def _rollout(api, path: str) -> dict:  # noqa: ANN001
    answer = api.get(path)
    check(answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text[:200]}")
    return answer.json()


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def report_outage(traffic: Traffic, server: str, down_at: float, up_at: float) -> None:
    unavailable = [a for a in traffic.answers if a.status == 503]
    bare = [a for a in unavailable if not a.retry_after]
    other = [a for a in traffic.answers if a.status not in (200, 503)]
    recovered = min((a.end for a in traffic.answers if a.start > up_at and a.status == 200), default=None)
    last_503 = max((a.end for a in unavailable), default=None)
    say(f"  did: stopped {server} for {up_at - down_at:.1f}s with traffic running, then started it again")
    say(f"  counted: {summary(traffic)}; 503: {len(unavailable)} (without Retry-After: {len(bare)}); other "
        f"failures: {len(other)} {dict(Counter(a.status for a in other))}; first 200 after the restart "
        f"{(recovered - up_at) if recovered else float('nan'):.1f}s after it; last 503 "
        + (f"{last_503 - up_at:+.1f}s relative to it" if last_503 else "none"))
    check(not bare, "a 503 without Retry-After")
    check(not other, f"answers other than 200 and 503: {[(a.kind, a.status, a.body[:120]) for a in other[:3]]}")
    check(recovered is not None, "no 200 after the restart")


# --- drill: restart PostgreSQL during traffic and during a batch job --------------------------------
BATCH_ROWS = 800  # 20 tasks of 2 x 20 rows (drills.FAST) at ~0.6 s each: the job outlasts the outage


def postgres_restart(ctx) -> None:  # noqa: ANN001
    stack = ctx.stack
    # The write: signing in (a refresh token row, the sign-in records). Not creating a model or a membership:
    # those publish "drop every cache" (registry/signals.py), which would empty the caches this drill relies on.
    # 0.8 per second per caller stays under the edge's sign-in limit (2 r/s).
    requests = {**predict_requests(ctx),
                "write": ("POST", "/api/auth/token", {"username": "drill", "password": ctx.password}, 0.8)}
    with client(stack, ctx.token) as api:
        ensure_looper(ctx, api)
        job_id = submit_job(api, "looper", "batch", BATCH_ROWS, [300000.0] * 4)
        wait_for(lambda: _chunks(stack, job_id)[0] or None, 60, "a first batch chunk done", every=0.1)
    with Traffic(stack, ctx.token, requests, threads_per_kind=2, rate=10) as traffic:
        time.sleep(3)
        done_before, chunks = _chunks(stack, job_id)
        down_at = time.time()
        stack.ctl("stop postgres")
        time.sleep(5)
        stack.ctl("start postgres")
        up_at = time.time()
        time.sleep(8)
    _report_traffic(traffic, up_at - down_at, up_at)
    with client(stack, ctx.token) as api:
        job = wait_job(api, job_id, timeout=240)
        rows = exactly_once(api, job_id, BATCH_ROWS)
    say(f"  batch job {job_id}: {done_before} of {chunks} chunks done when PostgreSQL stopped; it "
        f"{job['status']} {time.time() - up_at:.1f}s after the restart; {rows}")
    check(done_before < chunks, "the batch job ended before the restart: nothing was tested")


def _chunks(stack, job_id: str) -> tuple[int, int]:  # noqa: ANN001
    """(chunks done, chunks) of a job, read from the stack's database."""
    rows = stack.sql("SELECT count(*) FILTER (WHERE c.state = 'done'), count(*) FROM batch_batchchunk c "
                     "JOIN batch_batchjob j ON c.job_id = j.id WHERE j.uuid = %s", job_id)
    return rows[0][0], rows[0][1]


def _report_traffic(traffic: Traffic, outage: float, up_at: float) -> None:
    predictions = traffic.statuses("predict")
    writes = traffic.of("write")
    refused = [a for a in writes if a.status == 503]
    succeeded_after = sum(1 for a in writes if a.start > up_at and a.status == 200)
    say(f"  did: stopped PostgreSQL (fast shutdown) for {outage:.1f}s with predictions, reads and "
        f"writes (POST /api/auth/token: sign-ins) running and a batch job mid-way, then started it again")
    say(f"  counted: {summary(traffic)}; writes refused with 503: {len(refused)}, e.g. "
        f"{refused[0].body if refused else '-'!r}; writes that succeeded after the restart: {succeeded_after}")
    check(set(predictions) == {200}, f"predictions not all answered: {dict(predictions)}")
    check({a.status for a in writes} <= {200, 503}, f"writes: {dict(traffic.statuses('write'))}")
    check(all(a.retry_after for a in refused), "a 503 without Retry-After")
    check(set(traffic.statuses("read")) <= {200, 503}, f"reads: {dict(traffic.statuses('read'))}")
    check(succeeded_after > 0, "no write succeeded after the restart")


# --- drill: kill -9 a worker during validation and during a batch chunk ---------------------------
def worker_kill(ctx) -> None:  # noqa: ANN001
    from modelkit.tests.looping_model import looping_onnx

    stack = ctx.stack
    with client(stack, ctx.token) as api:
        ensure_looper(ctx, api)
        # The example loops 3 million times: validation takes seconds, long enough to be killed in it.
        number = upload(api, "looper", looping_onnx(5), input_example="[[3000000.0, 1.0, 1.0, 1.0, 1.0]]")
        owner = wait_for(lambda: _validation_owner(stack, number), 60, "validation on a worker", every=0.05)
        pid = int(owner.split(":")[1])
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        version = wait_ready(api, "looper", number, timeout=240)
        attempts = stack.sql("SELECT validation_attempts FROM registry_modelversion v JOIN registry_registeredmodel m "
                             "ON v.model_id = m.id WHERE m.name = 'looper' AND v.version = %s", number)[0][0]
        say(f"  did: kill -9 the worker process (pid {pid}) validating looper v{number}; counted: the version "
            f"became {version['status']} {time.time() - killed_at:.1f}s later after {attempts} validation "
            f"deliveries (the killed one and the one that completed)")
        check(attempts == 2, f"validation attempts {attempts}")

        job_id = submit_job(api, "looper", "batch", 200, [600000.0] * 4)
        chunk = wait_for(lambda: _running_chunk(stack, job_id), 60, "a chunk on a worker", every=0.05)
        time.sleep(0.2)
        os.kill(int(chunk[1].split(":")[1]), signal.SIGKILL)
        wait_job(api, job_id, timeout=240)
        rows = exactly_once(api, job_id, 200)
        redelivered = stack.sql("SELECT state, attempts FROM batch_batchchunk WHERE id = %s", chunk[0])[0]
    say(f"  did: kill -9 the worker process (pid {chunk[1].split(':')[1]}) running chunk {chunk[0]}; counted: "
        f"{rows}; the killed chunk is {redelivered[0]} after {redelivered[1]} deliveries")
    check(redelivered == ("done", 2), f"killed chunk {redelivered}")


def _group_alive(pgid: int) -> bool:
    """Any thread of the group still there. A process's sockets close only when its last thread is gone: a main
    thread already a zombie while the others tear down still holds the listening socket."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            states = [task.read_text().rsplit(")", 1)[1].split()[0] for task in stat.parent.glob("task/*/stat")]
        except OSError:
            continue
        if any(state != "Z" for state in states):
            return True
    return False


def _validation_owner(stack, number: int) -> str | None:  # noqa: ANN001
    rows = stack.sql("SELECT v.validation_lease_owner FROM registry_modelversion v JOIN registry_registeredmodel m "
                     "ON v.model_id = m.id WHERE m.name = 'looper' AND v.version = %s AND v.status = 'validating'",
                     number)
    return rows[0][0] if rows and rows[0][0] else None


def _running_chunk(stack, job_id: str) -> tuple | None:  # noqa: ANN001
    rows = stack.sql("SELECT c.id, c.lease_owner FROM batch_batchchunk c JOIN batch_batchjob j ON c.job_id = j.id "
                     "WHERE j.uuid = %s AND c.state = 'running' AND c.lease_owner <> ''", job_id)
    return rows[0] if rows else None


# --- drill: fill the artifact disk during an upload -----------------------------------------------
def small_disk(path: Path, wanted: bool) -> str:
    """The stack's data folder on a tmpfs of 48 MiB, so the drill can fill it; else the machine's disk."""
    release_disk(path)
    path.mkdir(parents=True, exist_ok=True)
    if not wanted:
        return "the machine's disk"
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0755", "tmpfs", str(path)],
                             capture_output=True, text=True)
    return "a 48 MiB tmpfs" if mounted.returncode == 0 else f"the machine's disk (no tmpfs: {mounted.stderr.strip()})"


def release_disk(path: Path) -> None:
    if path.exists() and subprocess.run(["mountpoint", "-q", str(path)]).returncode == 0:
        subprocess.run(["umount", "-l", str(path)], check=False)


def disk_full(ctx) -> None:  # noqa: ANN001
    stack, data = ctx.stack, Path(ctx.stack.info["data_dir"])
    if subprocess.run(["mountpoint", "-q", str(data)]).returncode != 0:
        raise AssertionError("the data folder is not a tmpfs of its own (mount refused): cannot fill it safely")
    filler = data / "filler"
    free = shutil.disk_usage(data).free
    with filler.open("wb") as out:
        out.truncate(0)
        block = b"\0" * (1 << 20)
        for _ in range(max(0, free // len(block) - 1)):
            out.write(block)
    files_before = sorted(str(p) for p in data.rglob("*") if p.is_file())
    versions_before = stack.sql("SELECT count(*) FROM registry_modelversion")[0][0]
    try:
        with client(stack, ctx.token) as api:
            answer = api.post("/api/v1/models/iris/versions",
                              files={"file": ("big.onnx", os.urandom(6 * 1024 * 1024))})
            files_after = sorted(str(p) for p in data.rglob("*") if p.is_file())
            versions_after = stack.sql("SELECT count(*) FROM registry_modelversion")[0][0]
            free_then = shutil.disk_usage(data).free
    finally:
        filler.unlink()
    say(f"  did: filled the data folder's tmpfs to {free_then // 1024} KiB free, uploaded 6 MiB through nginx")
    say(f"  counted: answer {answer.status_code} {answer.text[:160]!r}; version rows {versions_before} -> "
        f"{versions_after}; files in the data folder {len(files_before)} -> {len(files_after)} "
        f"(new: {sorted(set(files_after) - set(files_before))})")
    check(answer.status_code in (503, 507), f"answer {answer.status_code}")
    check(versions_after == versions_before, "a version row was left")
    check(set(files_after) <= set(files_before), "a partial file was left")
    with client(stack, ctx.token) as api:
        number = upload(api, "iris", iris_variant(0.25))
    say(f"  after freeing the space: the next upload is v{number} (201)")
