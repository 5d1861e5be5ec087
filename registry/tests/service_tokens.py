"""Helpers for the service-token tests: a client holding a token's secret, and the rows a token makes."""

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from registry.models import AuditEvent, Membership, ServiceToken


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def counts() -> tuple[int, int, int, int]:
    """Tokens, users (a token's account), memberships and audit events: what a refused create must not add."""
    return (ServiceToken.objects.count(), get_user_model().objects.count(), Membership.objects.count(),
            AuditEvent.objects.count())
