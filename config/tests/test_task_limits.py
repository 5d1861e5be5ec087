"""Every task can be sent: Celery refuses to send one whose soft time limit is above its hard limit."""

import pytest

from config.celery import app


def our_tasks() -> list:
    app.loader.import_default_modules()
    return sorted((t for name, t in app.tasks.items() if not name.startswith("celery.")), key=lambda t: t.name)


@pytest.mark.parametrize("task", our_tasks(), ids=lambda t: t.name)
def test_the_soft_time_limit_is_within_the_hard_one(task):
    # The condition Task.apply_async checks before sending (ValueError otherwise); the soft limit comes from
    # CELERY_TASK_SOFT_TIME_LIMIT unless the task sets its own.
    assert not (task.soft_time_limit and task.time_limit and task.soft_time_limit > task.time_limit), (
        task.name, task.soft_time_limit, task.time_limit)


def test_the_beat_schedule_names_only_tasks_that_exist():
    names = {t.name for t in our_tasks()}
    from django.conf import settings

    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= names
