"""Prometheus metrics of the serving path. Under gunicorn, PROMETHEUS_MULTIPROC_DIR aggregates workers."""

from prometheus_client import Counter, Gauge, Histogram

PREDICTIONS = Counter("modelyard_predictions", "Prediction requests answered", ["model", "version", "protocol"])
# By code only: labelling by the requested model name would let callers create unbounded series.
PREDICTION_ERRORS = Counter("modelyard_prediction_errors", "Serving requests refused or failed", ["code"])
LATENCY = Histogram(
    "modelyard_prediction_seconds", "Time in the model (cache hits excluded)", ["model", "version"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CACHE = Counter("modelyard_response_cache", "Response cache lookups", ["model", "result"])
LOADED = Gauge("modelyard_loaded_models", "Versions loaded in this process", multiprocess_mode="livesum")
LOAD_SECONDS = Histogram("modelyard_model_load_seconds", "Time to load a version into memory", ["format"],
                         buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
SUSPENSIONS = Counter("modelyard_model_suspensions", "Versions taken out of service by the circuit breaker",
                      ["model"])
SHADOW_DROPPED = Counter("modelyard_shadow_dropped", "Shadow copies dropped because the queue was full", ["model"])
