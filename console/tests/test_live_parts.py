"""The console's live parts and edges: sign-in redirects, the try-it token, polling that stops, sessions that end."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from batch.tests.factories import BatchJobFactory
from conftest import free_port
from registry.models import Role, ServiceToken
from registry.services.service_tokens import service_token_create
from registry.tokens import AccessToken


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_sign_in_never_loops_on_its_own_page_and_never_leaves_the_site(maintainer):
    client = signed_in(maintainer)
    assert client.get("/console/login?next=/console/login")["Location"] == "/console/"
    assert client.get("/console/login?next=https://evil.example/")["Location"] == "/console/"


def test_the_try_it_token_is_short_lived_uncached_and_stores_nothing(maintainer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(maintainer)
    assert client.post(reverse("console:session-token")).status_code == 403  # no CSRF token: refused
    client.get(reverse("console:home"))
    response = client.post(reverse("console:session-token"), HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = AccessToken(response.json()["access"])
    assert token["exp"] - token["iat"] <= 120
    assert not OutstandingToken.objects.exists()


def test_batch_polling_stops_once_every_job_shown_has_finished(teammate, ready_iris):
    job = BatchJobFactory(model=ready_iris.model, version=ready_iris, created_by=teammate)
    client = signed_in(teammate)
    assert client.get(reverse("console:batch-rows"), HTTP_HX_REQUEST="true").status_code == 200
    job.status = "succeeded"
    job.save()
    assert client.get(reverse("console:batch-rows"), HTTP_HX_REQUEST="true").status_code == 286
    page = client.get(reverse("console:batch"))
    assert b'hx-trigger="every 2s"' not in page.content


def test_an_ended_session_sends_htmx_to_sign_in_and_scripts_a_401(ready_iris):
    polled = Client().get(reverse("console:batch-rows"), HTTP_HX_REQUEST="true")
    assert polled.status_code == 401 and polled["HX-Redirect"] == "/console/login"
    fetched = Client().get(reverse("console:model", args=["iris"]), HTTP_ACCEPT="application/json")
    assert fetched.status_code == 401 and fetched.json()["error"]["code"] == "unauthenticated"


def test_expired_tokens_show_as_expired(owner, team):
    token, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="old",
                                    expires_at=timezone.now() + timedelta(days=1))
    ServiceToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(days=1))
    page = signed_in(owner).get(reverse("console:teams"))
    assert b'<span class="badge failed">expired</span>' in page.content


def test_the_audit_filter_offers_every_action_seen(owner, ready_iris):
    page = signed_in(owner).get(reverse("console:audit"))
    for action in (b"version.create", b"alias.set"):
        assert b">" + action + b"</option>" in page.content


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_a_retryable_503_page(maintainer):
    """The real database unreachable (its connection pointed at a port nothing listens on, or a SQLite file
    that cannot be opened): the page is a 503 with Retry-After, never a 500."""
    client = signed_in(maintainer)
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-modelyard-dir/db.sqlite3"
    else:
        connection.settings_dict["PORT"] = str(free_port())
    try:
        response = client.get(reverse("console:home"))
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503 and response["Retry-After"]
    assert b"database is unavailable" in response.content


def test_a_bad_audit_date_is_named_by_its_field(owner, ready_iris):
    page = signed_in(owner).get(reverse("console:audit"), {"since": "0001-01-01T00:00"})
    assert page.status_code == 400 and b"between 1970 and 9000" in page.content
