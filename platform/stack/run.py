"""`make stack`: Modelyard's production topology on this machine, without Docker.

    nginx (HTTP :8080 -> Django redirects to HTTPS :8443; TLS with a self-signed certificate unless given one)
      -> web-1 and web-2: gunicorn, round robin, passive health checks, retries of idempotent requests
    worker-1 and worker-2 (Celery), beat (one), on PostgreSQL and Redis; MODELYARD_ENV=production.

By default the machine's PostgreSQL and Redis (DATABASE_URL and REDIS_URL, or 127.0.0.1:5432/modelyard and
127.0.0.1:6379/0); with --own-servers a private PostgreSQL cluster, Redis server (and the drills use these) run
under the state folder and are supervised like the rest. Ctrl-C stops everything, in reverse start order.

    .venv/bin/python platform/stack/run.py [--own-servers] [--state DIR] [--http-port 8080] [--https-port 8443]
    .venv/bin/python platform/stack/run.py ctl status|stop NAME|start NAME|restart NAME [--state DIR]
    .venv/bin/python platform/stack/run.py cert DIR     (a self-signed cert.pem and key.pem, e.g. platform/tls)

Artifacts go to moto's S3 server on loopback, encrypted at rest with a key of the stack's own (--storage file
and --no-encryption turn these off).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import topology as top
from supervisor import Supervisor, control

# The settings stack.json shows (the drills read them); the secret key stays in its own file.
SHOWN = ("MODELYARD_", "DATABASE", "REDIS", "SECURE_", "AWS_")
DEFAULT_STATE = Path(os.environ.get("MODELYARD_STACK_STATE", "/tmp/modelyard-stack"))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="logs, pids, certificates, private servers")
    parser.add_argument("--own-servers", action="store_true", help="private PostgreSQL and Redis under --state")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--data-dir", type=Path, help="the shared artifact store (default <state>/data)")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--web-ports", type=int, nargs=2, default=None, help="default: two free ports")
    parser.add_argument("--postgres-port", type=int, default=5433)
    parser.add_argument("--redis-port", type=int, default=6380)
    parser.add_argument("--tls-dir", type=Path, help="holds cert.pem and key.pem (default: self-signed in <state>/tls)")
    parser.add_argument("--storage", choices=("s3", "file"), default="s3",
                        help="s3: moto's S3 server on loopback (default); file: a folder under --data-dir")
    parser.add_argument("--no-encryption", action="store_true", help="artifacts unencrypted at rest")
    parser.add_argument("--s3-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--worker-concurrency", type=int, default=1, help="processes of each of the two workers")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra setting for web, workers and beat (repeatable)")
    return parser.parse_args(argv)


def build(args: argparse.Namespace, supervisor: Supervisor) -> dict:
    state = args.state
    web_ports = tuple(args.web_ports or (top.free_port(), top.free_port()))
    ports = top.Ports(http=args.http_port, https=args.https_port, web=web_ports,
                      postgres=args.postgres_port, redis=args.redis_port)
    database_url, redis_url = args.database_url, args.redis_url
    if args.own_servers:
        supervisor.add(top.postgres_spec(state, ports.postgres))
        supervisor.add(top.redis_spec(state, ports.redis))
        database_url = f"postgres://postgres@127.0.0.1:{ports.postgres}/modelyard"
        redis_url = f"redis://127.0.0.1:{ports.redis}/0"
    database_url = database_url or "postgres://postgres@127.0.0.1:5432/modelyard"
    redis_url = redis_url or "redis://127.0.0.1:6379/0"
    top.create_database(database_url)
    data_dir = args.data_dir or state / "data"
    extra: dict[str, str] = {}
    if args.storage == "s3":
        port = args.s3_port or top.free_port()
        supervisor.add(top.s3_spec(state, port))
        extra.update(top.s3_env(port))
    if not args.no_encryption:
        extra.update(top.artifact_keys(state))
    extra.update(item.split("=", 1) for item in args.env)
    env = top.app_env(state, ports, database_url, redis_url, data_dir, extra)

    print("[stack] migrate, collectstatic", flush=True)
    top.manage(env, "migrate", "--noinput")
    top.manage(env, "collectstatic", "--noinput")
    for index, port in enumerate(ports.web, start=1):
        supervisor.add(top.web_spec(f"web-{index}", state, port, env))
    for index in (1, 2):
        supervisor.add(top.worker_spec(f"worker-{index}", env, args.worker_concurrency))
    supervisor.add(top.beat_spec(env))
    tls_dir = args.tls_dir or state / "tls"
    if args.tls_dir is None:
        top.make_self_signed(tls_dir)
    supervisor.add(top.nginx_spec(state, ports, tls_dir))
    return {"http": f"http://127.0.0.1:{ports.http}", "https": f"https://127.0.0.1:{ports.https}",
            "web": [f"http://127.0.0.1:{p}" for p in ports.web], "database_url": database_url,
            "redis_url": redis_url, "data_dir": str(data_dir), "cert": str(tls_dir / "cert.pem"),
            "env": {k: v for k, v in env.items() if k.startswith(SHOWN)}}


def serve(args: argparse.Namespace) -> int:
    state: Path = args.state
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o755)  # the PostgreSQL user must reach its cluster folder inside
    supervisor = Supervisor(state, say=lambda line: print(line, flush=True))

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Both explicitly: a shell starting this in the background sets SIGINT to "ignore", which Python keeps.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    try:
        info = build(args, supervisor)
        (state / "stack.json").write_text(json.dumps(info, indent=1))
        supervisor.serve_control()
        print(f"[stack] up: {info['https']} (self-signed unless --tls-dir), {info['http']} redirects there;"
              f" web processes {', '.join(info['web'])}; logs in {state / 'logs'}; Ctrl-C stops all", flush=True)
        supervisor.watch_forever()
    except KeyboardInterrupt:
        print("\n[stack] Ctrl-C: stopping", flush=True)
    finally:
        supervisor.stop_all()
        (state / "stack.json").unlink(missing_ok=True)
        print("[stack] stopped", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["cert"] and len(argv) == 2:  # make tls-cert: a self-signed pair for docker-compose's nginx
        top.make_self_signed(Path(argv[1]))
        print(f"{argv[1]}/cert.pem and key.pem: self-signed, for trying things out only")
        return 0
    if argv[:1] == ["ctl"]:
        parser = argparse.ArgumentParser(prog="run.py ctl")
        parser.add_argument("words", nargs="+")
        parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
        ctl = parser.parse_args(argv[1:])
        answer = control(ctl.state, " ".join(ctl.words))
        print(answer)
        return 1 if answer.startswith("error") else 0
    return serve(parse(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
