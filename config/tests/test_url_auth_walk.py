"""Fail closed: every route must refuse an anonymous caller unless it is on the public list."""

import pytest

from config.tests.urlwalk import PUBLIC, all_routes, fill

METHODS = ["get", "post", "put", "patch", "delete"]
ROUTES = all_routes()


def test_the_walk_finds_the_api():
    assert "api/v1/models/<str:name>/versions" in ROUTES
    assert "api/v1/models/<str:name>/aliases/<str:alias>/predict" in ROUTES
    assert "v2/models/<str:name>/infer" in ROUTES
    assert "v1/models/<str:name>:predict" in ROUTES


def test_every_public_route_still_exists():
    assert PUBLIC - set(ROUTES) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if r not in PUBLIC])
def test_no_route_answers_an_anonymous_caller(client, route):
    url = fill(route)
    for method in METHODS:
        response = getattr(client, method)(url)
        if url.startswith(("/admin/", "/console/")):
            # The admin and the console send anonymous users to their sign-in page (the admin 404s unknown URLs).
            assert response.status_code in (302, 404, 405), (method, url, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith(("/admin/login/", "/console/login")), response["Location"]
        else:
            assert response.status_code in (401, 404, 405), (method, url, response.status_code)
