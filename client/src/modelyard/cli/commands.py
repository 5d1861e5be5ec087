"""login, logout, push, versions, alias, promote, approve, predict."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from modelyard.cli import config
from modelyard.cli.state import state
from modelyard.client import Client
from modelyard.errors import UsageError


def login(ctx: typer.Context, url: str = typer.Option(None, "--url", help="Server URL"),
          username: str = typer.Option(..., "--username", "-u", prompt=True),
          password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin")
          ) -> None:
    """Sign in and keep the tokens in your config folder (0600). Service tokens: set MODELYARD_TOKEN."""
    st = state(ctx)
    url = url or st.url or config.load().get("url")
    if not url:
        raise UsageError("Which server? Pass --url (or set MODELYARD_URL)")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt("Password", hide_input=True)
    client = Client(url, username=username, password=password)
    try:
        path = config.save({"url": client.url, "username": username, "access": client.session.access,
                            "refresh": client.session.refresh})
    finally:
        client.close()
    st.emit({"url": client.url, "username": username, "credentials": str(path)},
            f"Signed in to {client.url} as {username} (tokens in {path})")


def logout(ctx: typer.Context) -> None:
    """Revoke the stored sign-in on the server and forget it here."""
    st = state(ctx)
    stored = config.load()
    if stored.get("refresh") and not os.environ.get("MODELYARD_TOKEN"):
        st.client().logout()
    config.forget()
    signed_in = bool(stored.get("access") or stored.get("refresh"))
    st.emit({"signed_out": signed_in}, "Signed out" if signed_in else "Was not signed in")


def _json_option(value: str | None, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--{name} must be a JSON object: {exc}") from None
    if not isinstance(parsed, dict):
        raise UsageError(f"--{name} must be a JSON object")
    return parsed


def push(ctx: typer.Context, path: Path = typer.Argument(..., help="Model file or MLflow model directory"),
         model: str = typer.Option(..., "--model", "-m", help="Model name"),
         team: str = typer.Option(None, "--team", "-t", help="Create the model in this team if it is new"),
         alias: str = typer.Option(None, "--alias", "-a", help="Point this alias at the version once ready"),
         wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until the worker has validated it"),
         timeout: float = typer.Option(600, "--timeout", help="Seconds to wait for validation"),
         metrics: str = typer.Option(None, "--metrics", help='JSON, e.g. {"accuracy": 0.97}'),
         tags: str = typer.Option(None, "--tags", help="JSON object"),
         git_commit: str = typer.Option(None, "--git-commit", help="Lineage: the code's commit"),
         description: str = typer.Option("", "--description")) -> None:
    """Upload a version (ONNX, skops, ... or an MLflow model directory), wait until ready, alias it."""
    st = state(ctx)
    if alias and not wait:
        raise UsageError("--alias needs --wait (an alias points at ready versions only)")
    client = st.client()
    lineage = {"git_commit": git_commit} if git_commit else None
    bar = Progress("[bold]upload", BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=st.err,
                   transient=True, disable=st.as_json)
    tasks: list[Any] = []

    def uploading(sent: int, total: int) -> None:  # the bar starts with the upload, after the local checks
        if not tasks:
            bar.start()
            tasks.append(bar.add_task("upload", total=total))
        bar.update(tasks[0], completed=sent)

    try:
        version = client.push(model, path, team=team, metrics=_json_option(metrics, "metrics"),
                              tags=_json_option(tags, "tags"), lineage=lineage, description=description,
                              progress=uploading)
    finally:
        bar.stop()
    if not st.as_json:
        st.err.print(f"Uploaded {model} version {version.number} ({version['format']}, "
                     f"{version['size_bytes']:,} bytes); validating...")
    if wait:
        version.wait_until_ready(timeout=timeout)
    result: dict[str, Any] = dict(version)
    human = f"{model} version {version.number}: {version['status']}"
    if wait:
        served = version.get("serving_format") or version["format"]
        human += f" (served as {served})" + (f" - {version['serving_note']}" if version.get("serving_note") else "")
    if alias:
        client.set_alias(model, alias, version.number)
        result["alias"] = alias
        human += f"\n{model}@{alias} -> version {version.number}"
    st.emit(result, human)


def versions(ctx: typer.Context, model: str = typer.Argument(...),
             status: str = typer.Option(None, "--status", help="ready, failed, archived, ...")) -> None:
    """List a model's versions and its aliases."""
    st = state(ctx)
    client = st.client()
    rows, aliases = client.versions(model, status=status), client.aliases(model)
    if st.as_json:
        st.emit({"versions": [dict(v) for v in rows], "aliases": aliases})
        return
    by_version: dict[int, list[str]] = {}
    for name, number in aliases.items():
        by_version.setdefault(number, []).append(name)
    table = Table("version", "status", "format", "served as", "size", "created", "aliases")
    for v in rows:
        table.add_row(str(v["version"]), v.get("status", ""), v.get("format", ""), v.get("serving_format") or "",
                      f"{v.get('size_bytes', 0):,}", str(v.get("created_at", ""))[:19],
                      ", ".join(sorted(by_version.get(v["version"], []))))
    st.out.print(table)


def alias(ctx: typer.Context, model: str = typer.Argument(...), name: str = typer.Argument(...),
          version: int = typer.Argument(...)) -> None:
    """Point an alias at a version (a protected alias: exit 5, use promote)."""
    st = state(ctx)
    result = st.client().set_alias(model, name, version)
    st.emit(result, f"{model}@{name} -> version {result.get('version', version)}")


def promote(ctx: typer.Context, model: str = typer.Argument(...),
            alias_name: str = typer.Argument(..., metavar="ALIAS"),
            version: int = typer.Argument(...), reason: str = typer.Option(..., "--reason", "-r"),
            for_rollout: bool = typer.Option(False, "--for-rollout", help="Approve a rollout, not a move")) -> None:
    """Ask for a protected alias to move; another maintainer approves."""
    st = state(ctx)
    request = st.client().promote(model, alias_name, version, reason, "rollout" if for_rollout else "move")
    st.emit(request, f"Promotion {request['id']} open: {model}@{alias_name} -> version {version} "
                     f"(approve with: modelyard approve {request['id']})")


def approve(ctx: typer.Context, promotion_id: int = typer.Argument(...),
            reason: str = typer.Option("", "--reason", "-r")) -> None:
    """Approve someone else's promotion request (the alias moves in the same transaction)."""
    st = state(ctx)
    result = st.client().approve(promotion_id, reason)
    st.emit(result, f"Promotion {promotion_id} {result.get('status', 'approved')}: {result.get('model')}@"
                    f"{result.get('alias')} -> version {result.get('version')}")


def _read_rows(data: str | None, input_file: Path | None) -> Any:
    if (data is None) == (input_file is None):
        raise UsageError("Give the rows with --data JSON or --input FILE (JSON, or - for stdin)")
    if input_file is not None:
        text = sys.stdin.read() if str(input_file) == "-" else _read_text(input_file)
    else:
        text = data or ""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"The rows are not JSON: {exc}") from None
    return rows["inputs"] if isinstance(rows, dict) and "inputs" in rows else rows


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    return path.read_text()


def predict(ctx: typer.Context, uri: str = typer.Argument(..., help="name@alias, name/3 or models:/name@alias"),
            data: str = typer.Option(None, "--data", "-d", help="JSON rows, e.g. [[5.1, 3.5, 1.4, 0.2]]"),
            input_file: Path = typer.Option(None, "--input", "-i", help="JSON file of rows ('-': stdin)")) -> None:
    """Predict: rows in, the model's outputs out."""
    st = state(ctx)
    result = st.client().predict(uri, _read_rows(data, input_file))
    body = {"model": result.model, "version": result.version, "outputs": result.raw}
    if st.as_json:
        st.emit(body)
        return
    table = Table(*result.raw.keys(), title=f"{result.model} version {result.version}")
    for row in zip(*result.raw.values(), strict=True):
        table.add_row(*(json.dumps(v) if isinstance(v, list) else str(v) for v in row))
    st.out.print(table)


def register(app: typer.Typer) -> None:
    for command in (login, logout, push, versions, alias, promote, approve, predict):
        app.command()(command)
