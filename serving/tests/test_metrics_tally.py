"""The prediction metrics are tallied and written in bulk: what reaches Prometheus is what ``inc`` and
``observe`` one by one would have written, bucket by bucket."""

import threading

from prometheus_client import CollectorRegistry, Histogram

from serving import metrics
from serving.metrics import LATENCY, PREDICTIONS, _observe_all


def test_bulk_observe_writes_what_observe_would():
    registry = CollectorRegistry()
    one = Histogram("one_by_one", "x", ["model"], buckets=LATENCY._upper_bounds[:-1], registry=registry)
    bulk = Histogram("in_bulk", "x", ["model"], buckets=LATENCY._upper_bounds[:-1], registry=registry)
    amounts = [0.0001, 0.0005, 0.0007, 0.003, 0.003, 0.02, 1.0, 7.5, 99.0, 0.0]
    for amount in amounts:
        one.labels("m").observe(amount)
    _observe_all(bulk.labels("m"), amounts)

    def samples(histogram: Histogram) -> dict:
        return {(s.name.split("_")[-1], s.labels.get("le")): s.value for metric in histogram.collect()
                for s in metric.samples if not s.name.endswith("_created")}

    assert samples(bulk) == samples(one)
    assert samples(bulk)[("count", None)] == len(amounts)
    assert samples(bulk)[("bucket", "0.001")] == 4


def test_counts_from_many_threads_all_arrive():
    def value() -> float:
        metrics.flush()
        return PREDICTIONS.labels("tally", "1", "native")._value.get()

    before = value()
    workers = [threading.Thread(target=lambda: [metrics.count_prediction("tally", 1, "native")
                                               for _ in range(5000)]) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert value() == before + 20_000
