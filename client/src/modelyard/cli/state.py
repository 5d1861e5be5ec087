"""What every command shares: output (human or ``--json``), the client, and errors turned into exit codes.

Exit codes (also in client/README.md): 0 done; 1 refused for another reason; 2 bad input (usage, a
damaged file, a 400/413); 3 not signed in or not allowed (401/403); 4 not found; 5 conflict (409, e.g. a
protected alias); 6 the version failed validation; 7 the batch job failed or was cancelled; 8 server
unreachable, throttled or failing (5xx); 9 timed out waiting.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from modelyard.cli import config
from modelyard.client import Client
from modelyard.errors import ApiError, ModelyardError, UsageError


@dataclass
class State:
    url: str | None = None
    as_json: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True))
    _client: Client | None = None

    def client(self) -> Client:
        """From MODELYARD_TOKEN when set, else the stored sign-in (refreshed tokens are stored again)."""
        if self._client is not None:
            return self._client
        stored = config.load()
        url = self.url or os.environ.get("MODELYARD_URL") or stored.get("url")
        if not url:
            raise UsageError("Which server? Run `modelyard login --url ...`, or set MODELYARD_URL")
        env_token = os.environ.get("MODELYARD_TOKEN")
        if env_token:
            self._client = Client(url, token=env_token)
        elif stored.get("access") or stored.get("refresh"):
            if stored.get("url") and stored["url"].rstrip("/") != url.rstrip("/"):
                raise UsageError(f"You are signed in to {stored['url']}, not {url}: run `modelyard login`")

            def keep(access: str | None, refresh: str | None) -> None:
                config.save({**stored, "access": access, "refresh": refresh})

            def reread() -> tuple[str | None, str | None]:  # another command may have rotated the pair
                now = config.load()
                return now.get("access"), now.get("refresh")

            self._client = Client(url, token=stored.get("access"), refresh_token=stored.get("refresh"),
                                  on_tokens=keep, stored_tokens=reread)
        else:
            raise UsageError("Not signed in: run `modelyard login`, or set MODELYARD_TOKEN")
        return self._client

    def emit(self, data: Any, human: str | None = None) -> None:
        """``--json``: the data as JSON on stdout; else the human text (or the data, pretty)."""
        if self.as_json:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
            sys.stdout.flush()
        elif human is not None:
            self.out.print(human)
        else:
            self.out.print_json(json.dumps(data, default=str))

    def fail(self, exc: ModelyardError) -> int:
        if self.as_json:
            envelope = exc.envelope if isinstance(exc, ApiError) else {
                "error": {"code": type(exc).__name__, "message": exc.message, "field": None}}
            sys.stdout.write(json.dumps(envelope) + "\n")
            sys.stdout.flush()
        self.err.print(f"[red]error:[/red] {exc}", markup=True)
        return exc.exit_code


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


class ErrorsToExitCodes(TyperGroup):
    """Every ModelyardError raised by any command becomes a message on stderr and its exit code."""

    def invoke(self, ctx: typer.Context) -> Any:  # typer vendors click: no click import here
        try:
            return super().invoke(ctx)
        except ModelyardError as exc:
            code = ctx.ensure_object(State).fail(exc)
            raise typer.Exit(code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        finally:
            client = ctx.ensure_object(State)._client
            if client is not None:
                client.close()
