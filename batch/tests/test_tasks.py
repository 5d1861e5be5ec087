"""The batch tasks as a worker and beat see them: registered by name, reliable, on the beat schedule,
and a django-celery-beat entry that submits a job through an alias."""

import json

import pytest
from django.conf import settings

from batch.models import BatchJob
from batch.tests.conftest import csv_bytes, iris_like, submit
from conftest import make_version
from registry import services as registry

NAMES = ["batch.job_chunk_run", "batch.job_finalize", "batch.jobs_sweep", "batch.jobs_expire",
         "batch.job_create_scheduled"]


def test_tasks_are_registered_reliable_and_scheduled():
    from batch.tasks import job_chunk_run

    app = job_chunk_run.app  # the project's app, as the worker loads it (batch may not import config)
    app.loader.import_default_modules()  # what a worker and beat do at start
    for name in NAMES:
        task = app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost and task.time_limit, name
    assert app.tasks["batch.job_chunk_run"].soft_time_limit == settings.MODELYARD_BATCH_TASK_TIME_LIMIT
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["batch.jobs_sweep"] <= 60 and schedule["batch.jobs_expire"] <= 3600


def test_a_periodic_task_scores_an_input_through_the_alias_as_it_is_then(ready_iris, owner, teammate, iris_onnx):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from batch.tasks import job_create_scheduled

    earlier = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    cron = CrontabSchedule.objects.create(minute="0", hour="2")
    entry = PeriodicTask.objects.create(name="iris nightly", task="batch.job_create_scheduled", crontab=cron,
                                        kwargs=json.dumps({"username": "tom-teammate", "model": "iris",
                                                           "alias": "production", "input_from": str(earlier.uuid),
                                                           "id_column": "id", "output_format": "csv",
                                                           "schedule": "iris nightly"}))
    second = make_version(ready_iris.model, owner, iris_onnx[0])
    registry.alias_set(actor=owner, model=ready_iris.model, name="production", version=second)

    job_id = job_create_scheduled.apply(kwargs=json.loads(entry.kwargs)).get()  # as beat's message runs it
    job = BatchJob.objects.get(uuid=job_id)
    assert (job.version, job.created_by, job.schedule, job.input_id) == (second, teammate, "iris nightly",
                                                                         earlier.input_id)


def test_a_schedule_whose_user_lost_the_role_creates_nothing(ready_iris, owner, viewer):
    from batch.tasks import job_create_scheduled
    from core.errors import Forbidden

    earlier = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    result = job_create_scheduled.apply(kwargs={"username": "vera-viewer", "model": "iris",
                                                "input_from": str(earlier.uuid), "id_column": "id"})
    with pytest.raises(Forbidden):
        result.get()
    assert BatchJob.objects.count() == 1
