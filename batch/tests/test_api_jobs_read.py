"""GET /api/v1/batch-jobs (filters model, status, created_by) and GET /api/v1/batch-jobs/{id}: predictors
read their teams' jobs with live progress; viewers and outsiders see none."""

from datetime import timedelta

from django.utils import timezone

from batch import services
from batch.models import BatchChunk, BatchJob
from batch.tests.conftest import csv_bytes, iris_like, submit

URL = "/api/v1/batch-jobs"


def test_the_list_holds_only_jobs_of_teams_where_the_caller_predicts(as_user, owner, teammate, viewer, outsider,
                                                                     ready_iris):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    assert [j["id"] for j in as_user(teammate).get(URL).json()["results"]] == [str(job.uuid)]
    assert as_user(viewer).get(URL).json()["count"] == 0
    assert as_user(outsider).get(URL).json()["count"] == 0


def test_filters_by_model_status_and_creator(as_user, owner, teammate, ready_iris, run):
    mine = submit(teammate, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    done = run(submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id"))
    client = as_user(teammate)

    def ids(query: str) -> list[str]:
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return [j["id"] for j in response.json()["results"]]

    assert ids("status=succeeded") == [str(done.uuid)]
    assert ids("created_by=tom-teammate") == [str(mine.uuid)]
    assert set(ids("model=iris")) == {str(mine.uuid), str(done.uuid)} and ids("model=other") == []
    bad = client.get(f"{URL}?status=exploded")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


def test_the_detail_shows_progress_rate_and_eta_while_running(as_user, owner, teammate, ready_iris, small_chunks):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(40)), id_column="id")
    services.job_chunk_run(chunk_id=BatchChunk.objects.get(job=job, index=0).id)
    BatchJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(seconds=10))
    body = as_user(teammate).get(f"{URL}/{job.uuid}").json()
    assert (body["status"], body["rows_done"], body["rows_failed"], body["progress"]) == ("running", 10, 0, 0.25)
    assert 0.9 <= body["rows_per_second"] <= 1.0 and 29 <= body["eta_seconds"] <= 31


def test_a_viewer_gets_403_and_an_outsider_404_for_a_job(as_user, owner, viewer, outsider, ready_iris):
    job = submit(owner, ready_iris.model, csv_bytes(iris_like(5)), id_column="id")
    assert as_user(viewer).get(f"{URL}/{job.uuid}").status_code == 403
    assert as_user(outsider).get(f"{URL}/{job.uuid}").status_code == 404
    assert as_user(owner).get(f"{URL}/00000000-0000-4000-8000-000000000001").status_code == 404
