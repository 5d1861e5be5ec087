"""The console (Django admin) opens every registry page for staff, and alias edits go through the service."""

import pytest
from django.urls import reverse

from registry.models import AuditEvent, ModelAlias
from registry.tests.factories import UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(username="sam-staff", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("page", ["team", "registeredmodel", "modelversion", "modelalias", "auditevent"])
def test_every_registry_list_and_detail_page_opens(client, staff, ready_iris, page):
    client.force_login(staff)
    listing = client.get(reverse(f"admin:registry_{page}_changelist"))
    assert listing.status_code == 200
    obj = listing.context["cl"].result_list[0]
    assert client.get(reverse(f"admin:registry_{page}_change", args=[obj.pk])).status_code == 200


def test_moving_an_alias_in_the_console_is_audited(client, staff, model, owner, ready_iris, iris_onnx):
    from conftest import make_version

    second = make_version(model, owner, iris_onnx[0])
    alias = ModelAlias.objects.get(name="production")
    client.force_login(staff)
    response = client.post(reverse("admin:registry_modelalias_change", args=[alias.pk]),
                           {"model": model.pk, "name": "production", "version": second.pk})
    assert response.status_code == 302
    assert ModelAlias.objects.get(name="production").version == second
    assert AuditEvent.objects.filter(action="alias.set", actor=staff).exists()
