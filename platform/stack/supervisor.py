"""A small process supervisor: starts named processes, restarts the ones that die, stops all in order.

Each process runs in a session of its own (a terminal's Ctrl-C reaches only the supervisor, which then
stops everything in reverse start order) and logs to <state>/logs/<name>.log. A process that exits while
the stack runs is started again after a second, unless it was stopped on purpose through the control
socket (``run.py ctl stop redis``), which the drills use to keep Redis or PostgreSQL down for a while.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Spec:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 30.0
    user: str | None = None  # PostgreSQL refuses to run as root
    ready: object = None  # a callable -> bool, waited for after each start
    extra: dict = field(default_factory=dict)


@dataclass
class Child:
    spec: Spec
    process: subprocess.Popen | None = None
    held: bool = False  # stopped on purpose: not restarted until started again
    restarts: int = 0
    started_at: float = 0.0


class Supervisor:
    def __init__(self, state: Path, say=print) -> None:
        self.state = state
        self.logs = state / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.children: dict[str, Child] = {}
        self.say = say
        self.stopping = threading.Event()
        self.lock = threading.RLock()

    # --- starting and stopping ------------------------------------------------------------------
    def add(self, spec: Spec, *, wait: bool = True) -> None:
        self.children[spec.name] = Child(spec)
        self.start(spec.name, wait=wait)

    def start(self, name: str, *, wait: bool = True) -> None:
        with self.lock:
            child = self.children[name]
            child.held = False
            if child.process is not None and child.process.poll() is None:
                return
            spec = child.spec
            with (self.logs / f"{name}.log").open("ab") as out:
                child.process = subprocess.Popen(spec.argv, env=spec.env, cwd=spec.cwd, stdout=out,
                                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                 start_new_session=True, user=spec.user)
            child.started_at = time.time()
            self._write_pids()
        if wait and spec.ready is not None:
            self.wait_ready(name)

    def wait_ready(self, name: str, timeout: float = 90.0) -> None:
        child = self.children[name]
        deadline = time.monotonic() + timeout
        while not child.spec.ready():
            if child.process is not None and child.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {child.process.returncode}; see {self.logs / name}.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout:.0f}s; see {self.logs / name}.log")
            time.sleep(0.1)

    def stop(self, name: str, *, hold: bool = True) -> None:
        with self.lock:
            child = self.children[name]
            child.held = hold
            process = child.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, child.spec.stop_signal)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=child.spec.stop_timeout)
        except subprocess.TimeoutExpired:
            self.say(f"[stack] {name} did not stop in {child.spec.stop_timeout:.0f}s: SIGKILL")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        self.stopping.set()
        for name in reversed(list(self.children)):
            self.say(f"[stack] stopping {name}")
            self.stop(name)
        (self.state / "pids.json").unlink(missing_ok=True)

    # --- watching ---------------------------------------------------------------------------------
    def watch_forever(self) -> None:
        """Restart what died, until stop_all. Runs in the main thread; signals interrupt the sleep."""
        while not self.stopping.is_set():
            for name, child in list(self.children.items()):
                with self.lock:
                    process = child.process
                    dead = process is not None and process.poll() is not None and not child.held
                if dead and not self.stopping.is_set():
                    how = (f"signal {-process.returncode}" if process.returncode < 0
                           else f"exit code {process.returncode}")
                    self.say(f"[stack] {name} (pid {process.pid}) died ({how}); the supervisor restarts it")
                    child.restarts += 1
                    time.sleep(0.5)
                    try:
                        self.start(name, wait=False)
                    except OSError as exc:
                        self.say(f"[stack] could not restart {name}: {exc}")
            self.stopping.wait(0.25)

    def _write_pids(self) -> None:
        table = {name: {"pid": c.process.pid if c.process else None, "restarts": c.restarts, "held": c.held,
                        **c.spec.extra} for name, c in self.children.items()}
        tmp = self.state / "pids.json.tmp"
        tmp.write_text(json.dumps(table, indent=1))
        tmp.replace(self.state / "pids.json")

    # --- control socket ---------------------------------------------------------------------------
    def serve_control(self) -> Path:
        path = self.state / "control.sock"
        path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        os.chmod(path, 0o600)
        server.listen(4)
        threading.Thread(target=self._control_loop, args=(server,), daemon=True).start()
        return path

    def _control_loop(self, server: socket.socket) -> None:
        while True:
            conn, _ = server.accept()
            with conn:
                words = conn.makefile().readline().split()
                conn.sendall((self._control(words) + "\n").encode())

    def _control(self, words: list[str]) -> str:
        if words == ["status"]:
            self._write_pids()
            return (self.state / "pids.json").read_text()
        if len(words) != 2 or words[0] not in ("stop", "start", "restart") or words[1] not in self.children:
            return f"error: expected status, or stop|start|restart one of {', '.join(self.children)}"
        action, name = words
        try:
            if action in ("stop", "restart"):
                self.stop(name, hold=True)
            if action in ("start", "restart"):
                self.start(name)
        except (OSError, RuntimeError) as exc:
            return f"error: {exc}"
        self._write_pids()
        return f"ok: {action} {name} (pid {self.children[name].process.pid})"


def control(state: Path, command: str, timeout: float = 120.0) -> str:
    """Send one command to a running stack's supervisor and return its answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(state / "control.sock"))
        conn.sendall(command.encode() + b"\n")
        return conn.makefile().read().strip()
