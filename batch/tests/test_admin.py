"""The console: job and input pages open for staff with progress; cancelling goes through the service."""

import pytest
from django.urls import reverse

from batch.models import BatchInput, BatchJob
from batch.tests.conftest import csv_bytes, iris_like, submit
from registry.models import AuditEvent
from registry.tests.factories import UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(username="sam-staff", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("page", ["batchjob", "batchinput"])
def test_list_and_detail_pages_open(client, staff, ready_iris, owner, page):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    client.force_login(staff)
    listing = client.get(reverse(f"admin:batch_{page}_changelist"))
    assert listing.status_code == 200
    obj = job if page == "batchjob" else BatchInput.objects.get()
    detail = client.get(reverse(f"admin:batch_{page}_change", args=[obj.pk]))
    assert detail.status_code == 200
    if page == "batchjob":
        assert b"<progress" in listing.content


def test_cancelling_in_the_console_is_audited(client, staff, ready_iris, owner):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    client.force_login(staff)
    response = client.post(reverse("admin:batch_batchjob_changelist"),
                           {"action": "cancel", "_selected_action": [job.pk]})
    assert response.status_code == 302
    assert BatchJob.objects.get(pk=job.pk).status == "cancelled"
    assert AuditEvent.objects.filter(action="batch_job.cancel", actor=staff).exists()
