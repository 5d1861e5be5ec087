"""Helpers for the fault drills: the running stack, an API client through nginx, traffic that keeps every answer."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from supervisor import control
from topology import ROOT


class DrillFailed(AssertionError):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise DrillFailed(what)


def wait_for(condition, timeout: float, what: str, every: float = 0.2):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise DrillFailed(f"no {what} after {timeout:.0f}s")


class Stack:
    """A `run.py --own-servers` started for the drills, stopped (Ctrl-C's path) at the end."""

    def __init__(self, state: Path, extra_args: list[str]) -> None:
        self.state = state
        self.log = state / "run.out"
        state.mkdir(parents=True, exist_ok=True)
        (state / "stack.json").unlink(missing_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("run.py")),
                                             "--state", str(state), "--own-servers", *extra_args],
                                            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        info = wait_for(self._info, 600, f"stack (see {self.log})", every=0.5)
        self.info = info
        self.cert = info["cert"]

    def _info(self) -> dict | None:
        if self.process.poll() is not None:
            raise DrillFailed(f"run.py exited:\n{self.log.read_text()[-3000:]}")
        path = self.state / "stack.json"
        return json.loads(path.read_text()) if path.exists() and (self.state / "control.sock").exists() else None

    def ctl(self, command: str) -> str:
        answer = control(self.state, command)
        check(not answer.startswith("error"), f"ctl {command}: {answer}")
        return answer

    def status(self) -> dict:
        return json.loads(self.ctl("status"))

    def pid(self, name: str) -> int:
        return self.status()[name]["pid"]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # what Ctrl-C does (run.py treats both alike)
        try:
            self.process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.info["env"], "MODELYARD_ENV": "production", "ALLOWED_HOSTS": "127.0.0.1",
                "SECRET_KEY": (self.state / "secret_key").read_text().strip()}

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True,
                                text=True)
        check(result.returncode == 0, f"manage.py {args}: {result.stderr[-2000:]}")
        return result.stdout

    def sql(self, query: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.info["database_url"], autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def nginx_lines(self, since: float = 0.0) -> list[str]:
        """Access-log lines of nginx written after ``since`` (a byte offset kept by the caller)."""
        with (self.state / "logs" / "nginx.log").open(errors="replace") as log:
            log.seek(int(since))
            return [line for line in log.read().splitlines() if '" ' in line and "upstream=" in line]

    def nginx_offset(self) -> int:
        return (self.state / "logs" / "nginx.log").stat().st_size


def client(stack: Stack, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=stack.info["https"], verify=stack.cert, headers=headers, timeout=timeout)


@dataclass
class Answer:
    kind: str
    start: float
    end: float
    status: int  # 0: no HTTP answer at all
    retry_after: str | None
    body: str


@dataclass
class Traffic:
    """Threads sending requests through nginx, each paced to ``rate`` per second; every answer is kept."""

    stack: Stack
    token: str
    requests: dict  # kind -> (method, path, json body or None)
    threads_per_kind: int = 2
    rate: float = 15.0
    answers: list[Answer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(kind,), daemon=True)
                         for kind in self.requests for _ in range(self.threads_per_kind)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)

    def _run(self, kind: str) -> None:
        method, path, body, *rate = self.requests[kind]  # an optional fourth item: this kind's own rate
        rate = rate[0] if rate else self.rate
        with client(self.stack, self.token, timeout=20) as http:
            while not self._stop.is_set():
                start = time.time()
                try:
                    # A random routing key per request: rollouts split traffic by caller, sticky per key.
                    response = http.request(method, path() if callable(path) else path,
                                            json=body() if callable(body) else body,
                                            headers={"Modelyard-Routing-Key": f"caller-{random.randrange(10**9)}"})
                    answer = Answer(kind, start, time.time(), response.status_code,
                                    response.headers.get("Retry-After"), response.text[:300])
                except httpx.HTTPError as exc:
                    answer = Answer(kind, start, time.time(), 0, None, repr(exc))
                self.answers.append(answer)
                self._stop.wait(max(0.0, 1 / rate - (time.time() - start)))

    def of(self, kind: str) -> list[Answer]:
        return [a for a in self.answers if a.kind == kind]

    def statuses(self, kind: str | None = None) -> Counter:
        return Counter(a.status for a in self.answers if kind is None or a.kind == kind)
