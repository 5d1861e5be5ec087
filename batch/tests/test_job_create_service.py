"""job_create: the version is fixed at submit, the input is checked before anything is kept, and a
refused submit leaves no row, no file, no audit event and no task."""

import pytest

from batch import services
from batch.models import BatchChunk, BatchInput, BatchJob
from batch.tests.conftest import FEATURES, csv_bytes, iris_like, jsonl_bytes, parquet_bytes, submit
from conftest import make_version, stored_files
from core.errors import Conflict, ModelyardError, NotFound
from registry import services as registry
from registry.models import AuditEvent


def nothing_kept(artifact_root) -> bool:
    batch_files = [p for p in stored_files(artifact_root) if "batch" in p.parts]
    return not (BatchJob.objects.exists() or BatchInput.objects.exists() or batch_files
                or AuditEvent.objects.filter(action__startswith="batch").exists())


def test_an_alias_is_resolved_at_submit_and_a_later_move_changes_nothing(ready_iris, owner, iris_onnx,
                                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as sent:
        job = submit(owner, ready_iris.model, csv_bytes(iris_like(25)), id_column="id")
    second = make_version(ready_iris.model, owner, iris_onnx[0])
    registry.alias_set(actor=owner, model=ready_iris.model, name="production", version=second)
    job.refresh_from_db()
    assert (job.version_id, job.alias, job.status, job.rows_total) == (ready_iris.id, "production", "queued", 25)
    assert job.feature_columns == FEATURES and job.input.format == "csv" and job.input.rows_total == 25
    assert len(sent) == 1  # one robust on-commit hook sends every chunk
    event = AuditEvent.objects.get(action="batch_job.create")
    assert event.actor == owner and event.after["version"] == 1 and event.team == ready_iris.model.team


def test_the_plan_becomes_one_chunk_row_per_chunk(ready_iris, owner, small_chunks):
    job = submit(owner, ready_iris.model, parquet_bytes(iris_like(35), row_group_size=5), "in.parquet",
                 id_column="id")
    chunks = list(BatchChunk.objects.filter(job=job).values_list("index", "row_start", "rows", "start", "end"))
    assert chunks == [(0, 0, 10, 0, 2), (1, 10, 10, 2, 4), (2, 20, 10, 4, 6), (3, 30, 5, 6, 7)]


def test_an_alias_whose_version_left_service_answers_with_the_one_before(ready_iris, owner, iris_onnx):
    second = make_version(ready_iris.model, owner, iris_onnx[0])
    registry.alias_set(actor=owner, model=ready_iris.model, name="production", version=second)
    registry.version_quarantine(version_id=second.id, reason="tampered")
    assert submit(owner, ready_iris.model, csv_bytes(iris_like(3)), id_column="id").version_id == ready_iris.id


def test_a_version_that_is_not_ready_is_a_409_and_nothing_is_kept(model, owner, iris_onnx, artifact_root):
    pending = make_version(model, owner, iris_onnx[0], validate=False)
    before = stored_files(artifact_root)
    with pytest.raises(Conflict) as caught:
        submit(owner, model, csv_bytes(iris_like(3)), version=pending.version, id_column="id")
    assert caught.value.code == "version_not_ready" and caught.value.field == "version"
    assert stored_files(artifact_root) == before and not BatchJob.objects.exists()


def test_an_alias_that_does_not_exist_is_a_404(ready_iris, owner, artifact_root):
    with pytest.raises(NotFound, match="no alias 'nightly'"):
        submit(owner, ready_iris.model, csv_bytes(iris_like(3)), alias="nightly", id_column="id")
    assert nothing_kept(artifact_root)


BAD_INPUTS = [
    (b"", "input.csv", {}, "empty_input"),
    (b"id,sepal_length,sepal_width,petal_length,petal_width\n", "input.csv", {"id_column": "id"}, "empty_input"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "input.csv", {}, "unsupported_format"),
    (csv_bytes(iris_like(3)), "input.csv", {"input_format": "parquet"}, "format_mismatch"),
    (csv_bytes(iris_like(3)), "input.csv", {}, "wrong_feature_count"),  # the id column is not named
    (csv_bytes(iris_like(3)), "input.csv", {"id_column": "key"}, "missing_columns"),
    (csv_bytes(iris_like(3)), "input.csv", {"id_column": "id", "output_format": "xlsx"}, "invalid"),
    (csv_bytes(iris_like(3)), "input.csv", {"id_column": "id", "max_error_rate": float("nan")}, "invalid"),
    (csv_bytes(iris_like(3), ids=False), "input.csv", {"id_column": "row"}, "missing_columns"),
    (parquet_bytes(iris_like(3), ids=True), "in.parquet", {}, "wrong_feature_count"),
]


@pytest.mark.parametrize(("data", "filename", "options", "code"), BAD_INPUTS)
def test_a_bad_input_is_a_400_naming_the_problem_and_nothing_is_kept(ready_iris, owner, artifact_root, data,
                                                                       filename, options, code):
    with pytest.raises(ModelyardError) as caught:
        submit(owner, ready_iris.model, data, filename, **options)
    assert caught.value.status == 400 and caught.value.code == code, caught.value.message
    assert nothing_kept(artifact_root)


@pytest.fixture
def named_iris(model, owner, iris_onnx):
    """A version whose signature names its columns: the input must have them, in any order."""
    signature = {"inputs": {"dtype": "float32", "features": 4, "columns": FEATURES}, "outputs": []}
    version = make_version(model, owner, iris_onnx[0], signature=signature)
    registry.alias_set(actor=owner, model=model, name="production", version=version)
    return version


def test_a_header_without_the_signature_columns_is_refused(named_iris, owner, artifact_root):
    data = csv_bytes(iris_like(3)).replace(b"petal_width", b"petal_w")
    with pytest.raises(ModelyardError, match=r"lacks the model's columns \['petal_width'\]") as caught:
        submit(owner, named_iris.model, data)
    assert caught.value.code == "missing_columns" and nothing_kept(artifact_root)


def test_named_columns_are_read_in_the_model_order_and_others_ignored(named_iris, owner):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from batch.tests.conftest import table

    shuffled = table(iris_like(3)).select(["petal_width", "id", "sepal_width", "petal_length", "sepal_length"])
    shuffled = shuffled.append_column("comment", pa.array(["a", "b", "c"]))
    path = named_iris.model.name + ".parquet"
    import io

    buffer = io.BytesIO()
    pq.write_table(shuffled, buffer)
    job = submit(owner, named_iris.model, buffer.getvalue(), path)
    assert job.feature_columns == FEATURES and job.id_column == ""


def test_a_string_feature_column_in_parquet_is_refused(ready_iris, owner, artifact_root):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": [1.0], "b": [1.0], "c": ["x"], "d": [1.0]}), buffer)
    with pytest.raises(ModelyardError, match=r"c \(string\)"):
        submit(owner, ready_iris.model, buffer.getvalue(), "in.parquet")
    assert nothing_kept(artifact_root)


def test_an_earlier_jobs_input_is_reused_without_a_new_file(ready_iris, owner, artifact_root):
    first = submit(owner, ready_iris.model, jsonl_bytes(iris_like(5)), "in.jsonl", id_column="id")
    files = stored_files(artifact_root)
    again = services.job_create(actor=owner, model=ready_iris.model, alias="production", input_from=first,
                                options=services.JobOptions(id_column="id", output_format="csv"))
    assert again.input_id == first.input_id and again.rows_total == 5 and stored_files(artifact_root) == files


def test_an_input_of_another_team_cannot_be_reused(ready_iris, owner, outsider, iris_onnx):
    from registry.tests.factories import RegisteredModelFactory

    theirs = RegisteredModelFactory(team=outsider.memberships.get().team, name="theirs")
    version = make_version(theirs, outsider, iris_onnx[0])
    registry.alias_set(actor=outsider, model=theirs, name="production", version=version)
    earlier = submit(outsider, theirs, csv_bytes(iris_like(3)), id_column="id")
    with pytest.raises(ModelyardError, match="model's team"):
        services.job_create(actor=owner, model=ready_iris.model, alias="production", input_from=earlier,
                            options=services.JobOptions(id_column="id"))
