"""Production behind TLS: plain HTTP is redirected to the HTTPS port, probes on the internal network are not."""

import pytest
from django.conf import settings as live_settings


@pytest.fixture
def production_tls(settings):
    settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS = True, 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_HOST = "127.0.0.1:8443"
    settings.ALLOWED_HOSTS = ["127.0.0.1"]


def test_plain_http_is_redirected_to_the_https_port_and_https_gets_hsts(client, db, production_tls):
    response = client.get("/api/v1/models?x=1", HTTP_HOST="127.0.0.1:8080", HTTP_X_FORWARDED_PROTO="http")
    assert response.status_code == 301 and response["Location"] == "https://127.0.0.1:8443/api/v1/models?x=1"
    secure = client.get("/healthz", HTTP_HOST="127.0.0.1:8443", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200 and secure["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_scrapes_over_plain_http_are_not_redirected(client, db, production_tls, path):
    assert client.get(path, HTTP_HOST="127.0.0.1").status_code != 301


def test_the_exemption_covers_only_the_probe_routes():
    assert live_settings.SECURE_REDIRECT_EXEMPT == [r"^(healthz|readyz|metrics)$"]
