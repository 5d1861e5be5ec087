"""Production settings pass Django's deployment checks; headers protect the console and the API."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

PRODUCTION = {"MODELYARD_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(60),
              "ALLOWED_HOSTS": "modelyard.example.com"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


def test_check_deploy_passes_at_warning_level_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_real_secret_key():
    result = manage("check", **{**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_the_demo_admin_is_never_created_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never runs with MODELYARD_ENV=production"):
        call_command("load_demo")
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.exists()


@pytest.mark.parametrize("url", ["/admin/login/", "/api/docs", "/healthz", "/api/v1/models"])
def test_security_headers_on_every_kind_of_page(client, db, url):
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy


def test_hsts_is_sent_over_tls_in_production_settings(client, db, settings):
    settings.SECURE_HSTS_SECONDS, settings.SECURE_SSL_REDIRECT = 31536000, True
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert client.get("/api/docs").status_code == 301  # plain HTTP is redirected to HTTPS (probes are exempt)


def test_the_api_docs_need_no_inline_script(client, db):
    page = client.get("/api/docs").content.decode()
    assert "<script>" not in page.replace(" ", "") and "?script" in page
