"""Fail closed: every route must refuse an anonymous caller unless it is on the public list."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {
    "api/auth/token", "api/auth/token/refresh", "api/auth/token/revoke",
    "api/schema", "api/docs", "healthz", "readyz", "metrics", "admin/login/", "admin/logout/",
    "v2", "v2/health/live", "v2/health/ready",
}
METHODS = ["get", "post", "put", "patch", "delete"]


def walk(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def concrete(route: str) -> str:
    """Fill path converters with plausible values; regex admin routes get a sample too."""
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<[^>]+>", "x", route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "x", route)
    return "/" + route


ROUTES = sorted(set(walk(get_resolver().url_patterns)))


def test_the_walk_finds_the_api():
    assert "api/v1/models/<str:name>/versions" in ROUTES
    assert "api/v1/models/<str:name>/aliases/<str:alias>/predict" in ROUTES


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if r not in PUBLIC])
def test_no_route_answers_an_anonymous_caller(client, route):
    url = concrete(route)
    for method in METHODS:
        response = getattr(client, method)(url)
        if url.startswith("/admin/"):
            # The console redirects anonymous users to its login page (or 404s unknown admin URLs).
            assert response.status_code in (302, 404, 405), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/admin/login/" in response["Location"]
        else:
            assert response.status_code in (401, 404, 405), (method, url, response.status_code)
            assert response.status_code != 404 or response.json()["error"]["code"] == "not_found"
