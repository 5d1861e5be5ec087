"""The caller's address: the one answer for audit rows, throttles and sign-in lockouts alike.

``MODELYARD_TRUSTED_PROXIES`` says how many reverse proxies stand between the client and Django, each
of which appends the address it saw to ``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``;
ingress-nginx, which replaces the header with that one address, counts as one too). The nearest proxy
is ``REMOTE_ADDR``, so with N trusted proxies the client is the Nth address from the right of
``X-Forwarded-For``: everything further left was written by the client and is never read.

- ``0`` (the default): ``REMOTE_ADDR`` only; ``X-Forwarded-For`` is ignored entirely.
- ``1``: the shipped nginx (docker-compose) or the Kubernetes ingress in front of gunicorn.
- ``2``: a load balancer that appends to ``X-Forwarded-For`` in front of that nginx, and so on.

A request that carries fewer addresses than that (it did not come through every proxy: a probe or a
caller inside the network), or whose chosen entry is not an IP address, is attributed to
``REMOTE_ADDR``. Setting more proxies than really exist lets clients choose their address: count them.
"""

import ipaddress
from typing import Any

from django.conf import settings


def _parse(value: str) -> str | None:
    """The address in canonical form (IPv4-mapped IPv6 as IPv4), or None for anything else."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def client_ip(request: Any) -> str | None:
    """The client's address for a Django ``HttpRequest`` or a DRF ``Request`` (its ``META`` is the same)."""
    meta = request.META
    remote = _parse(meta.get("REMOTE_ADDR") or "")
    hops = getattr(settings, "MODELYARD_TRUSTED_PROXIES", 0)
    if hops <= 0:
        return remote
    forwarded = meta.get("HTTP_X_FORWARDED_FOR") or ""
    chain = forwarded.split(",") if forwarded.strip() else []
    # chain[-1] was written by the nearest proxy (REMOTE_ADDR), chain[-hops] by the farthest trusted one.
    if len(chain) < hops:
        return remote
    return _parse(chain[-hops]) or remote
