"""What `make stack` runs: PostgreSQL and Redis (the machine's, or private ones), two gunicorn web processes
behind nginx, two Celery workers and one beat, all with MODELYARD_ENV=production and one artifact store.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from supervisor import Spec

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv" / "bin"
PLACEHOLDER = re.compile(r"\$\{(MODELYARD_[A-Z0-9_]+)\}")


@dataclass
class Ports:
    http: int
    https: int
    web: tuple[int, int]
    postgres: int = 5433
    redis: int = 6380
    s3: int = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


# --- nginx ----------------------------------------------------------------------------------------
def ensure_nginx() -> str:
    """Debian's nginx, installed when missing (as .ci/run does): the project installs what it needs."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    print("[stack] nginx is missing: apt-get install -y nginx", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], env=env, check=True)
    return "/usr/sbin/nginx"


def render_nginx(values: dict[str, str], target: Path) -> Path:
    """platform/nginx.conf with its ${MODELYARD_*} placeholders filled in, as the nginx image's envsubst does."""
    template = (ROOT / "platform" / "nginx.conf").read_text()
    missing = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise SystemExit(f"platform/nginx.conf needs values for {', '.join(missing)}")
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy("/etc/nginx/mime.types", target / "mime.types")
    conf = target / "nginx.conf"
    conf.write_text(PLACEHOLDER.sub(lambda m: values[m.group(1)], template))
    return conf


def make_self_signed(folder: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> None:
    """A self-signed certificate for the local topology (never for production), if the folder has none."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "cert.pem").exists() and (folder / "key.pem").exists():
        return
    san = ",".join(f"IP:{n}" if n[0].isdigit() else f"DNS:{n}" for n in names)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=modelyard-local", "-addext", f"subjectAltName={san}",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True)
    os.chmod(folder / "key.pem", 0o600)


def nginx_spec(state: Path, ports: Ports, tls_dir: Path) -> Spec:
    conf = render_nginx({"MODELYARD_WEB_1": f"127.0.0.1:{ports.web[0]}", "MODELYARD_WEB_2": f"127.0.0.1:{ports.web[1]}",
                         "MODELYARD_HTTP_PORT": str(ports.http), "MODELYARD_HTTPS_PORT": str(ports.https),
                         "MODELYARD_TLS_DIR": str(tls_dir), "MODELYARD_NGINX_PID": str(state / "nginx.pid")},
                        state / "nginx")
    binary = ensure_nginx()
    # As root, nginx's workers run as Debian's nginx user, who owns /var/lib/nginx (request body spooling).
    directives = "daemon off;" + (" user www-data;" if os.geteuid() == 0 else "")
    test = subprocess.run([binary, "-t", "-q", "-p", str(state / "nginx"), "-c", str(conf), "-g", directives],
                          capture_output=True, text=True)
    if test.returncode != 0:
        raise SystemExit(f"nginx refuses the rendered platform/nginx.conf:\n{test.stderr}")
    return Spec("nginx", [binary, "-p", str(state / "nginx"), "-c", str(conf), "-g", directives], dict(os.environ),
                state, stop_signal=signal.SIGQUIT, stop_timeout=15,
                ready=lambda: answers(f"http://127.0.0.1:{ports.http}/healthz"),
                extra={"http": ports.http, "https": ports.https})


# --- private PostgreSQL, Redis and S3 ------------------------------------------------------------
def postgres_spec(state: Path, port: int) -> Spec:
    """A cluster of the stack's own under <state>/postgres, so drills restart nobody else's server."""
    data = state / "postgres"
    user = "postgres" if os.geteuid() == 0 else None
    bindir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
                  or "/usr/lib/postgresql/15/bin")
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if user:
            shutil.chown(data, user, user)
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True, user=user)
    argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={data}", "-c", "max_connections=200"]
    return Spec("postgres", argv, dict(os.environ), state, stop_signal=signal.SIGINT, user=user,
                ready=lambda: subprocess.run(["pg_isready", "-q", "-U", "postgres", "-h", "127.0.0.1",
                                              "-p", str(port)]).returncode == 0,
                extra={"port": port})


def create_database(url: str) -> None:
    """CREATE DATABASE if missing, through psycopg on the server's postgres database."""
    import psycopg  # the project's own driver, from the virtualenv this script runs in

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def redis_spec(state: Path, port: int) -> Spec:
    """Append-only, as in docker-compose: queued tasks survive a restart of the broker."""
    folder = state / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec"]
    return Spec("redis", argv, dict(os.environ), state, ready=lambda: listening(port), extra={"port": port})


def s3_spec(state: Path, port: int) -> Spec:
    """moto's S3 server on loopback, standing in for a real S3-compatible store (its objects live in memory)."""
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return Spec("s3", argv, dict(os.environ), state, ready=lambda: listening(port), extra={"port": port})


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "modelyard-stack", "AWS_SECRET_ACCESS_KEY": "modelyard-stack-secret",
                  "AWS_DEFAULT_REGION": "us-east-1"}


def s3_env(port: int, bucket: str = "modelyard-artifacts") -> dict[str, str]:
    """Creates the bucket (if missing) and returns the settings that point Modelyard at it."""
    import boto3

    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    return {"MODELYARD_ARTIFACT_STORAGE": "s3", "MODELYARD_S3_BUCKET": bucket, "MODELYARD_S3_ENDPOINT_URL": endpoint,
            **S3_CREDENTIALS}


def artifact_keys(state: Path) -> dict[str, str]:
    """Encryption at rest with a key of the stack's own, in a file as a mounted secret would be."""
    path = state / "artifact-keys"
    if not path.exists():
        import base64

        path.write_text(f"stack-1:{base64.b64encode(secrets.token_bytes(32)).decode()}\n")
        path.chmod(0o600)
    return {"MODELYARD_ARTIFACT_KEYS_FILE": str(path)}


# --- Modelyard's own processes ---------------------------------------------------------------------
def app_env(state: Path, ports: Ports, database_url: str, redis_url: str, data_dir: Path,
            extra: dict[str, str]) -> dict[str, str]:
    secret = state / "secret_key"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(64))
        secret.chmod(0o600)
    hosts = [f"https://{host}:{ports.https}" for host in ("127.0.0.1", "localhost")]
    return {**os.environ, "MODELYARD_ENV": "production", "SECRET_KEY": secret.read_text().strip(),
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "MODELYARD_DATA_DIR": str(data_dir),
            "MODELYARD_STATIC_ROOT": str(state / "static"), "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": ",".join(hosts), "SECURE_SSL_HOST": f"127.0.0.1:{ports.https}",
            "MODELYARD_TRUSTED_PROXIES": "1", "PYTHONUNBUFFERED": "1", **extra}


def web_spec(name: str, state: Path, port: int, env: dict[str, str]) -> Spec:
    metrics = state / f"prometheus-{name}"
    metrics.mkdir(parents=True, exist_ok=True)
    argv = [str(VENV / "gunicorn"), "-c", "platform/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
            "config.wsgi:application"]
    return Spec(name, argv, {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}, ROOT, stop_timeout=40,
                ready=lambda: answers(f"http://127.0.0.1:{port}/healthz"), extra={"port": port})


def worker_spec(name: str, env: dict[str, str], concurrency: int) -> Spec:
    argv = [str(VENV / "celery"), "-A", "config", "worker", "-l", "info", "-n", f"{name}@%h",
            "--concurrency", str(concurrency)]
    return Spec(name, argv, env, ROOT, stop_timeout=60)


def beat_spec(env: dict[str, str]) -> Spec:
    argv = [str(VENV / "celery"), "-A", "config", "beat", "-l", "info",
            "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
    return Spec("beat", argv, env, ROOT, stop_timeout=15)


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
