"""jobs_expire (beat, hourly): files of old jobs go, rows and files stay consistent, on the record."""

from datetime import timedelta

import pytest
from django.utils import timezone

from batch import services
from batch.models import BatchInput, BatchJob
from batch.tests.conftest import csv_bytes, iris_like, submit
from conftest import stored_files
from registry.artifacts import artifact_save
from registry.models import AuditEvent

DAY = timedelta(days=1)


def expire(**kwargs) -> dict[str, int]:
    counts = services.jobs_expire(older_than=kwargs.get("older_than", 30 * DAY), grace=kwargs.get("grace", DAY))
    counts.pop("scratch")  # this machine's work files; other tests' killed workers leave some
    return counts


@pytest.fixture
def old_job(ready_iris, owner, run):
    job = run(submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id"))
    BatchJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - 31 * DAY)
    BatchInput.objects.filter(pk=job.input_id).update(created_at=timezone.now() - 31 * DAY)
    return job


def batch_files(root) -> list:
    return [p for p in stored_files(root) if "batch" in p.parts]


def test_an_old_jobs_files_and_its_unused_input_go(old_job, artifact_root, django_capture_on_commit_callbacks):
    assert len(batch_files(artifact_root)) == 3  # input, output, errors
    with django_capture_on_commit_callbacks(execute=True):
        assert expire() == {"jobs": 1, "inputs": 1, "orphans": 0}
    old_job.refresh_from_db()
    assert old_job.expired_at and not old_job.output_key and not old_job.errors_key and old_job.input is None
    assert batch_files(artifact_root) == [] and not BatchInput.objects.exists()
    event = AuditEvent.objects.get(action="batch.expired")
    assert event.team == old_job.team and event.after["jobs"] == [str(old_job.uuid)]
    assert expire() == {"jobs": 0, "inputs": 0, "orphans": 0}


def test_an_input_a_newer_job_uses_is_kept(old_job, owner, artifact_root, django_capture_on_commit_callbacks):
    newer = services.job_create(actor=owner, model=old_job.model, alias="production", input_from=old_job,
                                options=services.JobOptions(id_column="id"))
    with django_capture_on_commit_callbacks(execute=True):
        assert expire()["inputs"] == 0
    newer.refresh_from_db()
    assert newer.input is not None and len(batch_files(artifact_root)) == 1


def test_a_recent_job_is_kept(ready_iris, owner, run, artifact_root):
    run(submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id"))
    assert expire() == {"jobs": 0, "inputs": 0, "orphans": 0} and len(batch_files(artifact_root)) == 3


def test_files_no_row_names_go_after_the_grace_period(ready_iris, owner, run, artifact_root):
    from django.core.files.base import ContentFile

    job = run(submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id"))
    artifact_save(f"batch/jobs/{job.uuid}/parts/000000-out-late.arrows", ContentFile(b"late loser"))
    artifact_save("batch/inputs/1b0e3c1e-0000-4000-8000-000000000000/never-committed.csv", ContentFile(b"a"))
    assert expire()["orphans"] == 0  # within the grace period: a row may be about to commit
    assert expire(grace=timedelta(seconds=-1))["orphans"] == 2
    assert len(batch_files(artifact_root)) == 3


def test_work_files_a_killed_worker_left_go_after_the_grace_period(db):
    import os
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.FILE_UPLOAD_TEMP_DIR) / "batch"
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / "tmpold.arrows", folder / "tmpfresh.arrows"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    two_days_ago = (timezone.now() - 2 * DAY).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))
    assert services.jobs_expire(older_than=30 * DAY, grace=DAY)["scratch"] >= 1
    assert not old.exists() and fresh.exists()
    fresh.unlink()
