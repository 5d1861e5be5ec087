"""Start and stop gunicorn, wait for readiness, and make single checked HTTP calls (no proxies)."""

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.environment import GUNICORN_CONF, VENV_BIN
from bench.errors import BenchError
from bench.options import REPO

READY_TIMEOUT_S = 60.0
# gunicorn's default access-log format (platform/gunicorn.conf.py sets none) plus the worker's pid, so each
# worker's share of the requests can be counted. The pid costs both servers the same getpid() per line
# (config/gunicorn_logging.py works out only the atoms a format uses), and the access log is on in
# production too.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(p)s'
_ACCESS_LINE = re.compile(r'"(?:GET|POST) [^"]*" \d{3} .* <(\d+)>$')
_READY_LINE = re.compile(r'"GET /readyz HTTP/1\.[01]" 200 .* <(\d+)>$')
# Fast polling: the ready time is a target (under 3 s), so the poll interval must not blur it.
POLL_INTERVAL_S = 0.01


@dataclass
class Server:
    label: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    started: float


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(label: str, app: str, port: int, env: dict[str, str], log: Path) -> Server:
    # Something already listening would be benchmarked instead of the server started here.
    if not _port_free(port):
        raise BenchError(f"port {port} is in use; stop what holds it or pass --port / --floor-port")
    command = [str(VENV_BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "--bind", f"127.0.0.1:{port}",
               "--access-logformat", ACCESS_LOG_FORMAT, app]
    with log.open("ab") as out:
        started = time.perf_counter()
        # A session of its own: Ctrl-C reaches only this script, which then stops gunicorn in order.
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Server(label, port, process, log, started)


def stop(server: Server) -> None:
    if server.process.poll() is not None:
        return
    server.process.terminate()  # gunicorn's graceful shutdown: the master stops its workers
    try:
        server.process.wait(timeout=35)  # graceful_timeout is 30 s
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)  # the group start() created: master and workers
        server.process.wait()


def call(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(server: Server) -> float:
    """Seconds from spawning gunicorn to the first 200 from /readyz."""
    deadline = server.started + READY_TIMEOUT_S
    last = "no answer"
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"{server.label} exited with status {server.process.returncode} before it was ready; "
                             f"log {server.log}:\n{log_tail(server.log)}")
        try:
            status, body = call(server.port, "GET", "/readyz", timeout=2)
        except OSError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if status == 200:
                return time.perf_counter() - server.started
            last = f"HTTP {status}: {body[:300]!r}"
        time.sleep(POLL_INTERVAL_S)
    raise BenchError(f"{server.label} was not ready after {READY_TIMEOUT_S:.0f} s (last: {last}); "
                     f"log {server.log}:\n{log_tail(server.log)}")


def wait_all_ready(server: Server, timeout_s: float = 30.0) -> bool:
    """Polls /readyz until every worker has answered it 200 (read from the access log's pids).

    wait_ready() returns at the first worker's answer; a worker still loading would otherwise take part of
    the first measurements (with reuse_port, connections hashed to its socket wait for it). False if some
    worker never answered in time.
    """
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        pids = set(workers(server))
        answered = set()
        with contextlib.suppress(OSError), server.log.open("rb") as log:
            for raw in log:
                match = _READY_LINE.search(raw.decode(errors="replace").rstrip())
                if match:
                    answered.add(int(match.group(1)))
        if pids and pids <= answered:
            return True
        with contextlib.suppress(OSError):
            call(server.port, "GET", "/readyz", timeout=2)
        time.sleep(POLL_INTERVAL_S)
    return False


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is the server's (IPv4 loopback)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 01: ESTABLISHED
            inodes.add(fields[9])
    return inodes


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                raw = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if int(raw[raw.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def workers(server: Server) -> list[int]:
    """The pids of the server's gunicorn workers."""
    return _children(server.process.pid)


def connections_per_worker(server: Server) -> tuple[int, ...]:
    """How many of the server's established connections each worker holds, most first.

    With one shared listening socket, wrk's connections, all opened at once and kept alive, can all land
    on the one gthread worker that happens to be running: then one process (one GIL) serves them all.
    """
    inodes = _established_inodes(server.port)
    counts = []
    for worker in workers(server):
        held = 0
        with contextlib.suppress(OSError):
            for fd in os.scandir(f"/proc/{worker}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(fd.path)
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        held += 1
        counts.append(held)
    return tuple(sorted(counts, reverse=True))


def log_size(server: Server) -> int:
    """Where the server's log ends now: requests_per_worker() counts the lines written after it."""
    try:
        return server.log.stat().st_size
    except OSError:
        return 0


def requests_per_worker(server: Server, since: int, pids: list[int]) -> tuple[int, ...]:
    """Requests each worker logged after the offset `since`, most first; workers that served none count 0."""
    counts = dict.fromkeys(pids, 0)
    with server.log.open("rb") as log:
        log.seek(since)
        for raw in log:
            match = _ACCESS_LINE.search(raw.decode(errors="replace").rstrip())
            if match:
                pid = int(match.group(1))
                counts[pid] = counts.get(pid, 0) + 1
    return tuple(sorted(counts.values(), reverse=True))
