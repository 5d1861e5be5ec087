"""Where the command line keeps its sign-in: one JSON file in the user's config folder, mode 0600."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer


def config_dir() -> Path:
    """``MODELYARD_CONFIG_DIR``, else the platform's config folder (~/.config/modelyard on Linux)."""
    return Path(os.environ.get("MODELYARD_CONFIG_DIR") or typer.get_app_dir("modelyard"))


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def load() -> dict[str, Any]:
    try:
        data = json.loads(credentials_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def save(data: dict[str, Any]) -> Path:
    """Write atomically; the file is created 0600 (never readable by others, not even for a moment)."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = credentials_path()
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        os.chmod(partial, 0o600)  # a umask cannot widen it, but an older file of that name could be wider
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def forget() -> bool:
    """Drop the tokens, keep the server's URL; False when there were none."""
    stored = load()
    had_tokens = bool(stored.get("access") or stored.get("refresh"))
    if stored.get("url"):
        save({"url": stored["url"]})
    else:
        credentials_path().unlink(missing_ok=True)
    return had_tokens
