"""Console personas sign in with a session, as people do in a browser."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def browser_as() -> Callable[[Any], Client]:
    """A Django test client signed in as the given user (session cookie, CSRF checks on)."""

    def signed_in(user: Any) -> Client:
        client = Client(enforce_csrf_checks=False)
        client.force_login(user)
        return client

    return signed_in
