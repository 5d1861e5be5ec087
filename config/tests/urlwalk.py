"""Every URL pattern of the project, for tests that must cover routes added later too."""

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

# Reachable without a token, on purpose. Anything else must refuse an anonymous caller.
PUBLIC = {
    "api/auth/token", "api/auth/token/refresh",
    "api/schema", "api/docs", "healthz", "readyz", "metrics",
    "admin/login/", "admin/logout/", "console/login", "console/logout", "", "v2", "v2/health/live", "v2/health/ready",
}


def walk(patterns: list, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def all_routes() -> list[str]:
    return sorted(set(walk(get_resolver().url_patterns)))


def fill(route: str, values: dict[str, str] | None = None) -> str:
    """A concrete URL: path converters get the given values (or a placeholder), regex admin routes too."""
    values = values or {}
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1" if "int:" in m.group(0) else "x"), route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values.get(m.group(1), "x"), route)
    return "/" + route
