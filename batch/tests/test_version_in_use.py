"""The registry asks the batch app before archiving a version: a queued or running job holds it."""

import pytest

from batch.tests.conftest import csv_bytes, iris_like, submit
from conftest import make_version
from core.errors import Conflict
from registry import services as registry


def test_a_version_an_open_job_runs_cannot_be_archived_until_the_job_ends(ready_iris, owner, iris_onnx, run):
    second = make_version(ready_iris.model, owner, iris_onnx[0])
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), version=second.version, id_column="id")
    with pytest.raises(Conflict, match=f"batch job {job.uuid}"):
        registry.version_archive(actor=owner, version=second)
    run(job)
    assert registry.version_archive(actor=owner, version=second).status == "archived"
