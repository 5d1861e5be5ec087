"""Against gunicorn with two worker processes: cross-process invalidation, Triton's client, metrics."""

import time
import urllib.request

import numpy as np
import orjson
import pytest

from conftest import make_version
from registry import services
from registry.tokens import RefreshToken
from serving import metrics

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def post(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=orjson.dumps(body), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Connection": "close"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return orjson.loads(response.read())


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    ready = 0
    while ready < 6 and time.monotonic() < deadline:  # several answers: both workers warmed
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=2)
            ready += 1
        except OSError:
            time.sleep(0.1)
    assert ready == 6, "workers never became ready"


def versions_answering(base: str, token: str, rows: list, count: int = 30) -> set[int]:
    url = f"{base}/api/v1/models/iris/aliases/production/predict"
    return {post(url, token, {"inputs": rows})["version"] for _ in range(count)}


def test_a_moved_alias_reaches_every_worker_within_a_second(web_server, model, owner, teammate, iris_onnx,
                                                            iris_rows, ready_iris):
    second = make_version(model, owner, iris_onnx[0])
    token = str(RefreshToken.for_user(teammate).access_token)
    wait_ready(web_server)
    assert versions_answering(web_server, token, iris_rows) == {1}  # every worker has v1 cached now
    services.alias_set(actor=owner, model=model, name="production", version=second)
    time.sleep(1.0)
    assert versions_answering(web_server, token, iris_rows) == {2}


def test_a_deactivated_user_is_refused_by_every_worker_within_a_second(web_server, teammate, ready_iris, iris_rows):
    token = str(RefreshToken.for_user(teammate).access_token)
    wait_ready(web_server)
    assert versions_answering(web_server, token, iris_rows) == {1}
    teammate.is_active = False
    teammate.save(update_fields=["is_active"])
    time.sleep(1.0)
    for _ in range(20):
        with pytest.raises(urllib.error.HTTPError) as refused:
            versions_answering(web_server, token, iris_rows, count=1)
        assert refused.value.code == 401


def assert_locked_out_within_a_second(base: str, token: str, rows: list) -> None:
    time.sleep(1.0)
    for _ in range(20):  # many calls: both workers, whichever the connection lands on
        with pytest.raises(urllib.error.HTTPError) as refused:
            versions_answering(base, token, rows, count=1)
        assert refused.value.code == 401


@pytest.mark.parametrize("change", ["bulk_deactivation", "password_change", "revoke_all"])
def test_a_revoked_user_is_out_of_every_worker_within_a_second(web_server, teammate, ready_iris, iris_rows, change):
    from django.contrib.auth import get_user_model

    from registry.services.sessions import sessions_revoke_all

    token = str(RefreshToken.for_user(teammate).access_token)
    wait_ready(web_server)
    assert versions_answering(web_server, token, iris_rows) == {1}
    if change == "bulk_deactivation":  # no signal, no bus message: only the cached caller's expiry sees it
        get_user_model().objects.filter(pk=teammate.pk).update(is_active=False)
    elif change == "password_change":
        teammate.set_password("a-new-long-password-1")
        teammate.save()
    else:
        sessions_revoke_all(actor=teammate, user=teammate)
    assert_locked_out_within_a_second(web_server, token, iris_rows)


def test_tritons_python_client_works_unchanged_with_a_bearer_token(web_server, teammate, ready_iris):
    import tritonclient.http as triton

    headers = {"Authorization": f"Bearer {RefreshToken.for_user(teammate).access_token}"}
    client = triton.InferenceServerClient(url=web_server.removeprefix("http://"))
    wait_ready(web_server)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("iris", headers=headers)
    assert client.get_model_metadata("iris", headers=headers)["versions"] == ["1"]
    tensor = triton.InferInput("input-0", [2, 4], "FP32")
    tensor.set_data_from_numpy(np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32))
    result = client.infer("iris", [tensor], model_version="1", headers=headers)
    assert result.as_numpy("labels").tolist() == [0, 2]
    assert result.as_numpy("probabilities").shape == (2, 3)
    assert not client.is_model_ready("iris", headers={"Authorization": "Bearer forged"})


def test_metrics_add_up_across_workers(web_server, teammate, ready_iris, iris_rows):
    token = str(RefreshToken.for_user(teammate).access_token)
    wait_ready(web_server)
    versions_answering(web_server, token, iris_rows, count=25)
    # Each worker writes its tally within serving.metrics.FLUSH_SECONDS; the scraped worker writes its own first.
    time.sleep(metrics.FLUSH_SECONDS * 2)
    text = urllib.request.urlopen(f"{web_server}/metrics", timeout=5).read().decode()
    counted = [line for line in text.splitlines()
               if line.startswith("modelyard_predictions_total{") and 'model="iris"' in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in counted) == 25
    seconds = [line for line in text.splitlines()
               if line.startswith("modelyard_prediction_seconds_count{") and 'model="iris"' in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in seconds) == 25
    assert "modelyard_prediction_seconds_bucket" in text and "modelyard_loaded_models" in text
