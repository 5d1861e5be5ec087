"""Serving from the ``s3`` artifact storage (moto's server on loopback): one GET per machine."""

from serving.runtime_cache import runtimes


def test_serving_pays_the_download_once_per_machine(s3_storage, as_user, teammate, ready_iris, iris_rows):
    key = ready_iris.serving_storage_key
    before = s3_storage.gets(key)  # validation (in this process) downloaded it once
    assert before == 1
    client = as_user(teammate)
    for _ in range(3):
        runtimes.clear()  # as a fresh web process would: nothing loaded, the disk cache still there
        response = client.post("/api/v1/models/iris/aliases/production/predict", {"inputs": iris_rows},
                               format="json")
        assert response.status_code == 200 and response.json()["outputs"]["labels"] == [0, 2]
    assert s3_storage.gets(key) == before
