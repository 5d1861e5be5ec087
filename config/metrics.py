"""/metrics: django-prometheus' export plus state read at scrape time, for the Grafana dashboard
(platform/grafana/): rollout weights, batch rows and the workers' queue length.

These come from the database and the broker, not from counters in one process, so every web process
answers the same values: the dashboard takes ``max`` across targets. A source that is down (a
PostgreSQL or Redis restart) leaves its family out of that scrape instead of failing the scrape.
"""

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django_prometheus import exports
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from serving import metrics as serving_metrics

logger = logging.getLogger(__name__)


def _rollout_weights() -> Metric:
    from rollouts.models import ACTIVE, Rollout

    family = GaugeMetricFamily("modelyard_rollout_weight", "Share of an alias's traffic (percent) per version "
                               "while a rollout runs", labels=["model", "alias", "version", "role"])
    rows = Rollout.objects.filter(status__in=ACTIVE).values_list(
        "model__name", "alias", "stable__version", "candidate__version", "weight")
    for model, alias, stable, candidate, weight in rows:
        family.add_metric([model, alias, str(stable), "stable"], 100 - weight)
        family.add_metric([model, alias, str(candidate), "candidate"], weight)
    return family


def _batch_rows() -> Metric:
    from batch.models import BatchJob

    family = CounterMetricFamily("modelyard_batch_rows", "Rows scored by batch jobs", labels=["outcome"])
    totals = BatchJob.objects.aggregate(done=Sum("rows_done"), failed=Sum("rows_failed"))
    family.add_metric(["done"], totals["done"] or 0)
    family.add_metric(["failed"], totals["failed"] or 0)
    return family


def _queue_length() -> Metric:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    family = GaugeMetricFamily("modelyard_queue_length", "Tasks waiting in the Celery queue", labels=["queue"])
    family.add_metric([queue], _waiting(queue))
    return family


def _waiting(queue: str) -> int:
    if settings.CELERY_BROKER_URL.startswith("redis"):
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)
        try:  # kombu keeps one list per priority step: "<queue>", "<queue>\x06\x163", ...
            names = [queue, *(f"{queue}\x06\x16{step}" for step in range(1, 10))]
            return sum(client.llen(name) for name in names)
        finally:
            client.close()
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    return sum(1 for _ in folder.glob(f"*.{queue}.msg"))  # kombu's filesystem transport: <time>_<uuid>.<queue>.msg


class _State:
    def collect(self) -> Iterator[Metric]:
        for source in (_rollout_weights, _batch_rows, _queue_length):
            try:
                yield source()
            except Exception as exc:  # a restart of PostgreSQL or Redis must not fail the whole scrape
                logger.warning("metrics: %s skipped (%s)", source.__name__.strip("_"), type(exc).__name__)


_registry = CollectorRegistry(auto_describe=False)
_registry.register(_State())  # type: ignore[arg-type]


def metrics_view(request: HttpRequest) -> Any:
    serving_metrics.flush()  # this process's tally first; the others' arrive within their flush interval
    response: HttpResponse = exports.ExportToDjangoView(request)
    response.content = response.content + generate_latest(_registry)
    return response
