"""The Grafana dashboard (platform/grafana/) loads, is provisioned by compose next to Prometheus, and every
metric its PromQL uses exists in /metrics after a prediction, a rollout step and a batch job."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from batch.tests.conftest import (
    csv_bytes,
    fresh_batch_runtimes,  # noqa: F401  (autouse: job plans cached per process)
    iris_like,
    run_here,
    submit,
)
from conftest import make_version
from rollouts import services as rollouts

GRAFANA = Path(settings.BASE_DIR) / "platform" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "modelyard.json"
# PromQL's own words, and Grafana's variables, are not metric names.
_NOT_METRICS = {"sum", "by", "rate", "max", "histogram_quantile", "clamp_min", "le", "model", "version", "code",
                "alias", "role", "outcome", "queue", "label_values", "irate", "increase", "avg", "min", "without"}


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return exprs


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', "", expr)  # label values
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges, $__rate_interval
    expr = re.sub(r"\$\w+", "", expr)
    expr = re.sub(r"(?<![A-Za-z_])\d+(\.\d+)?([eE][-+]?\d+)?", "", expr)  # numbers, 1e-9 too
    return {word for word in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr) if word not in _NOT_METRICS}


def test_the_dashboard_is_valid_and_asks_for_what_the_issue_lists():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    names = set().union(*map(metric_names, expressions()))
    assert {"modelyard_predictions_total", "modelyard_prediction_errors_total", "modelyard_prediction_seconds_bucket",
            "modelyard_rollout_weight", "modelyard_batch_rows_total", "modelyard_queue_length"} <= names
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    uids = {p["datasource"]["uid"] for p in dashboard["panels"]}
    assert uids == {datasource["datasources"][0]["uid"]}


def test_compose_provisions_grafana_next_to_prometheus():
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())["services"]
    assert compose["grafana"]["profiles"] == compose["prometheus"]["profiles"] == ["monitoring"]
    mounts = {volume.split(":")[0] for volume in compose["grafana"]["volumes"]}
    assert {"./platform/grafana/provisioning", "./platform/grafana/dashboards"} <= mounts
    # Every web service is scraped (the dashboard sums across them), and accepts the Host Prometheus sends.
    web = {name for name in compose if name == "web" or name.startswith("web-")}
    prometheus = yaml.safe_load((Path(settings.BASE_DIR) / "platform" / "prometheus.yml").read_text())
    targets = {target.split(":")[0] for job in prometheus["scrape_configs"] for config in job["static_configs"]
               for target in config["targets"]}
    allowed = set(compose["web"]["environment"]["ALLOWED_HOSTS"].split(","))
    assert web <= targets and targets <= allowed


@pytest.mark.django_db(transaction=True)
def test_every_metric_the_dashboard_uses_is_in_metrics(client, as_user, owner, teammate, model, ready_iris,
                                                       iris_onnx, iris_rows):
    predictor = as_user(teammate)
    assert predictor.post("/api/v1/models/iris/aliases/production/predict", {"inputs": iris_rows},
                          format="json").status_code == 200
    assert predictor.post("/api/v1/models/nope/versions/1/predict", {"inputs": iris_rows},
                          format="json").status_code == 404
    second = make_version(model, owner, iris_onnx[0])
    rollouts.rollout_create(actor=owner, model=model, alias="production", version=second.version,
                            strategy="canary", steps=[10, 50, 100], step_seconds=60)
    run_here(submit(teammate, model, csv_bytes(iris_like(30)), "in.csv", id_column="id"))

    text = client.get("/metrics").content.decode()
    samples = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    wanted = set().union(*map(metric_names, expressions()))
    assert wanted - samples == set()
    weights = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'modelyard_rollout_weight\{alias="production",model="iris",role="(\w+)",version="\d"\} (\S+)', text)}
    assert set(weights) == {"stable", "candidate"} and sum(weights.values()) == 100
    assert re.search(r'modelyard_batch_rows_total\{outcome="done"\} 30\.0', text)
    assert re.search(r"modelyard_queue_length\{queue=\"[^\"]+\"\} \d+", text)
