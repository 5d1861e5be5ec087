"""Which web processes are alive and which versions each has loaded, shared across the deployment.

Every web process reports its loaded version ids once a second with a time to live; a process that
stops reporting (killed, hung) drops out after ``TTL`` seconds. With Redis: a sorted set of reporters
scored by their last report plus one key per reporter that expires. Embedded: one small file per
reporter under the data dir, judged by its modification time. Readers see only live reporters.
"""

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from core import windows

logger = logging.getLogger(__name__)
TTL = 3.0
SET_KEY = "modelyard:presence"
KEY = "modelyard:presence:{reporter}"


def reporter_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _folder() -> Path:
    return Path(settings.DATA_DIR) / "presence"


def report(reporter: str, loaded: list[int]) -> None:
    payload = json.dumps(sorted(set(loaded)))
    if settings.REDIS_URL:
        client: Any = windows._redis()
        pipe = client.pipeline(transaction=False)
        pipe.set(KEY.format(reporter=reporter), payload, px=int(TTL * 1000))
        pipe.zadd(SET_KEY, {reporter: time.time()})
        pipe.execute()
        return
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{reporter.replace('/', '_')}.tmp"
    temporary.write_text(payload)
    temporary.replace(folder / reporter.replace("/", "_"))  # atomic: readers never see half a file


def live() -> dict[str, set[int]]:
    """Live reporter -> version ids it has loaded. Stale reporters are pruned on the way."""
    if settings.REDIS_URL:
        return _live_redis()
    now, found = time.time(), {}
    folder = _folder()
    for path in folder.iterdir() if folder.exists() else []:
        if path.name.startswith("."):
            continue
        try:
            if now - path.stat().st_mtime > TTL:
                path.unlink(missing_ok=True)
                continue
            found[path.name] = set(json.loads(path.read_text()))
        except (OSError, ValueError):  # removed or replaced while we read: the next tick sees it
            continue
    return found


def _live_redis() -> dict[str, set[int]]:
    client: Any = windows._redis()
    client.zremrangebyscore(SET_KEY, "-inf", time.time() - TTL)
    reporters = [member.decode() for member in client.zrange(SET_KEY, 0, -1)]
    if not reporters:
        return {}
    values = client.mget([KEY.format(reporter=r) for r in reporters])
    return {reporter: set(json.loads(value)) for reporter, value in zip(reporters, values, strict=True)
            if value is not None}
