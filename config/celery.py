import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# pyarrow's allocator (mimalloc) hands freed pages back to the system 10 ms after they are freed, so each
# batch task faulted its buffers in again, and two workers doing so at once slowed each other: 20-30 % of a
# million-row Parquet job (docs/batch.md). Ten seconds keeps them from one task of a job to the next. The
# cost: a batch worker's peak RSS is 429 MiB instead of 371 (flat in the input's size either way), and
# mimalloc purges only when it next allocates, so an idle worker keeps it. Read when pyarrow loads its
# library; config is imported before anything else.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "10000")

app = Celery("modelyard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _connections_checked(task: Any = None, **_: Any) -> None:
    """What Django does at the start of a request, for a task: a connection that broke (a PostgreSQL
    restart) or outlived CONN_MAX_AGE is closed, and the next query checks the kept one first. Needed
    because CELERY_DB_REUSE_MAX keeps connections across tasks (config/settings.py). Not for a task run
    eagerly inside its caller's transaction (as Celery's own fix-up skips those)."""
    from django.db import close_old_connections

    if not getattr(getattr(task, "request", None), "is_eager", False):
        close_old_connections()
