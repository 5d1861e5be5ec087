"""Steps the fault drills share: batch jobs and their output, uploads, the slow model, the traffic's requests."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from drillkit import Traffic, check, wait_for

UPSTREAM = re.compile(r'" (\d{3}) .* upstream=(\S+(?:, \S+)*) ustatus=(\S+(?:, \S+)*)')


def upstream_counts(lines: list[str]) -> Counter:
    """Requests per web process that answered them (the last upstream nginx tried)."""
    return Counter(m.group(2).split(", ")[-1] for line in lines if (m := UPSTREAM.search(line)))


def csv_input(rows: int, value: list[float]) -> bytes:
    body = ["id,a,b,c,d"] + [f"r{i},{','.join(map(str, value))}" for i in range(1, rows + 1)]
    return ("\n".join(body) + "\n").encode()


def submit_job(api, model: str, alias: str, rows: int, value: list[float]) -> str:  # noqa: ANN001
    answer = api.post("/api/v1/batch-jobs", files={"file": ("input.csv", csv_input(rows, value))},
                      data={"model": model, "alias": alias, "id_column": "id", "output_format": "csv"})
    check(answer.status_code == 201, f"batch submit: {answer.status_code} {answer.text}")
    return answer.json()["id"]


def wait_job(api, job_id: str, timeout: float = 180) -> dict:  # noqa: ANN001
    def done() -> dict | None:
        answer = api.get(f"/api/v1/batch-jobs/{job_id}")
        job = answer.json() if answer.status_code == 200 else {}
        return job if job.get("status") not in (None, "queued", "running") else None

    job = wait_for(done, timeout, f"end of batch job {job_id}", every=0.5)
    check(job["status"] == "succeeded", f"batch job {job['status']}: {job.get('status_message')}")
    return job


def output_ids(api, job_id: str) -> list[str]:  # noqa: ANN001
    answer = api.get(f"/api/v1/batch-jobs/{job_id}/output", follow_redirects=True)
    check(answer.status_code == 200, f"output: {answer.status_code}")
    return [row["id"] for row in csv.DictReader(io.StringIO(answer.text))]


def batch_rows(api, model: str, alias: str, rows: int, value: list[float]) -> int:  # noqa: ANN001
    job_id = submit_job(api, model, alias, rows, value)
    wait_job(api, job_id)
    ids = output_ids(api, job_id)
    check(ids == [f"r{i}" for i in range(1, rows + 1)], f"output ids not exactly once in order: {ids[:5]}...")
    return len(ids)


def exactly_once(api, job_id: str, rows: int) -> str:  # noqa: ANN001
    ids = output_ids(api, job_id)
    counts = Counter(ids)
    missing, twice = rows - len(counts), sum(1 for n in counts.values() if n > 1)
    check(missing == 0 and twice == 0 and ids == [f"r{i}" for i in range(1, rows + 1)],
          f"{missing} rows missing, {twice} twice")
    return f"{len(ids)} output rows for {rows} input rows, {missing} missing, {twice} twice"


def upload(api, model: str, data: bytes, **fields: str) -> int:  # noqa: ANN001
    answer = api.post(f"/api/v1/models/{model}/versions", files={"file": ("model.onnx", data)}, data=fields)
    check(answer.status_code == 201, f"upload: {answer.status_code} {answer.text}")
    return answer.json()["version"]


def wait_ready(api, model: str, number: int, timeout: float = 180) -> dict:  # noqa: ANN001
    def ready() -> dict | None:
        version = api.get(f"/api/v1/models/{model}/versions/{number}").json()
        check(version.get("status") != "failed", f"{model} v{number} failed: {version.get('status_message')}")
        return version if version.get("status") == "ready" else None

    return wait_for(ready, timeout, f"{model} v{number} ready", every=0.5)


def ensure_looper(ctx, api) -> None:  # noqa: ANN001
    """A model that loops as often as its largest input says (modelkit/tests/looping_model.py): slow on demand."""
    if "looper" in ctx.versions:
        return
    from modelkit.tests.looping_model import looping_onnx

    check(api.post("/api/v1/models", json={"team": "drills", "name": "looper"}).status_code == 201, "looper model")
    number = upload(api, "looper", looping_onnx(4))
    wait_ready(api, "looper", number)
    check(api.put("/api/v1/models/looper/aliases/batch", json={"version": number}).status_code == 200, "alias")
    ctx.versions["looper"] = number


def predict_requests(ctx) -> dict:  # noqa: ANN001
    return {"predict": ("POST", "/api/v1/models/iris/aliases/staging/predict", {"inputs": ctx.iris_rows}),
            "read": ("GET", "/api/v1/models/iris/versions/1", None)}


def summary(traffic: Traffic) -> str:
    return "; ".join(f"{kind}: {len(traffic.of(kind))} requests {dict(traffic.statuses(kind))}"
                     for kind in dict.fromkeys(a.kind for a in traffic.answers))


def ensure_candidate(ctx, api) -> int:  # noqa: ANN001
    """A second iris version (another regularisation, so other bytes) for rollouts."""
    if "candidate" in ctx.versions:
        return ctx.versions["candidate"]
    number = upload(api, "iris", iris_variant(0.5))
    wait_ready(api, "iris", number)
    ctx.versions["candidate"] = number
    return number



def iris_variant(c: float) -> bytes:
    """An iris classifier with another regularisation than the demo's: other bytes, same signature."""
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(C=c, max_iter=1000).fit(features, labels)
    return to_onnx(model, features[:1].astype(np.float32), options={id(model): {"zipmap": False}}).SerializeToString()
