"""The caller's address, for audit rows, throttles and sign-in lockouts alike."""

from typing import Any


def client_ip(request: Any) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR")
