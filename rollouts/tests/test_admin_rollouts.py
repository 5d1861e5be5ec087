"""The console: rollout pages open for staff, with their events; its actions go through the audited services."""

from django.test import Client
from django.urls import reverse

from registry.models import AuditEvent, ModelAlias
from registry.tests.factories import UserFactory
from rollouts.models import Rollout


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="sam-staff", is_staff=True, is_superuser=True))
    return client


def test_pages_open_and_show_the_events(start):
    rollout = start()
    client = staff_client()
    assert client.get(reverse("admin:rollouts_rollout_changelist")).status_code == 200
    page = client.get(reverse("admin:rollouts_rollout_change", args=[rollout.pk]))
    assert page.status_code == 200 and b"started" in page.content
    assert client.get(reverse("admin:rollouts_versionmetricminute_changelist")).status_code == 200


def test_the_abort_action_goes_through_the_service(start):
    rollout = start()
    client = staff_client()
    client.post(reverse("admin:rollouts_rollout_changelist"),
                {"action": "rollout_abort", "_selected_action": [rollout.pk]})
    rollout.refresh_from_db()
    assert rollout.status == "aborted" and ModelAlias.objects.get(name="production").candidate_version_id is None
    assert AuditEvent.objects.filter(action="rollout.abort", actor__username="sam-staff").exists()
    client.post(reverse("admin:rollouts_rollout_changelist"),  # again: a message, nothing changes
                {"action": "rollout_abort", "_selected_action": [rollout.pk]})
    assert Rollout.objects.get(pk=rollout.pk).events.count() == 2
