"""Every change made in the console goes through the API's services: the same rules, the same audit event
(with the person and their address), and a refused form shows the service's message by its field and
leaves nothing behind."""

from typing import Any

import orjson
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from batch.models import BatchInput, BatchJob
from batch.tests.conftest import csv_bytes, iris_like
from conftest import make_version, stored_files
from registry import services
from registry.models import AuditEvent, ModelVersion, PromotionRequest, RegisteredModel, ServiceToken
from rollouts.models import Rollout


def signed_in(user: Any) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(user)
    return client


def audited(action: str, actor: Any) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action, actor=actor).order_by("-id").first()
    assert event is not None, f"no {action} event by {actor}"
    assert event.ip == "203.0.113.9"
    return event


def test_registering_a_model_and_uploading_a_version(maintainer, team, iris_onnx):
    client = signed_in(maintainer)
    response = client.post(reverse("console:model-new"), {"team": "acme", "name": "churn", "description": "d"})
    assert response.status_code == 302 and response["Location"] == reverse("console:upload", args=["churn"])
    audited("model.create", maintainer)
    response = client.post(reverse("console:upload", args=["churn"]), {
        "file": SimpleUploadedFile("churn.onnx", iris_onnx[0]), "metrics": '{"auc": 0.91}',
        "input_example": orjson.dumps(iris_onnx[1]).decode()})
    assert response.status_code == 302
    version = ModelVersion.objects.get(model__name="churn")
    assert version.metrics == {"auc": 0.91} and version.created_by == maintainer
    assert audited("version.create", maintainer).target == "model:churn/v1"


def test_a_refused_upload_shows_the_message_by_its_field_and_keeps_nothing(maintainer, model, iris_onnx,
                                                                           artifact_root):
    before = stored_files(artifact_root)
    response = signed_in(maintainer).post(reverse("console:upload", args=["iris"]), {
        "file": SimpleUploadedFile("m.onnx", iris_onnx[0]), "sha256": "0" * 64})
    assert response.status_code == 400
    assert b'data-field="sha256"' in response.content and b"does not match" in response.content
    assert not ModelVersion.objects.exists() and stored_files(artifact_root) == before
    response = signed_in(maintainer).post(reverse("console:upload", args=["iris"]), {"metrics": "{not json"})
    assert response.status_code == 400 and b'data-field="file"' in response.content
    assert b'data-field="metrics"' in response.content


def test_a_promotion_is_requested_approved_and_the_alias_moves(maintainer, owner, ready_iris, iris_onnx):
    second = make_version(ready_iris.model, owner, iris_onnx[0])
    response = signed_in(maintainer).post(reverse("console:promotion-new", args=["iris", second.version]),
                                          {"alias": "production", "reason": "better"})
    promotion = PromotionRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("console:promotion", args=[promotion.pk])
    audited("promotion.request", maintainer)
    response = signed_in(owner).post(reverse("console:promotion-decide", args=[promotion.pk, "approve"]),
                                     {"reason": "ok"})
    assert response.status_code == 302
    audited("promotion.approve", owner)
    assert ready_iris.model.aliases.get(name="production").version == second


def test_a_rejection_needs_a_reason_shown_by_the_field(maintainer, owner, ready_iris, iris_onnx):
    second = make_version(ready_iris.model, owner, iris_onnx[0])
    promotion = services.promotion_request(actor=owner, model=ready_iris.model, alias="production", version=second,
                                           reason="mine")
    response = signed_in(maintainer).post(reverse("console:promotion-decide", args=[promotion.pk, "reject"]), {})
    assert response.status_code == 400 and b"may not be blank" in response.content
    promotion.refresh_from_db()
    assert promotion.status == "open"
    signed_in(maintainer).post(reverse("console:promotion-decide", args=[promotion.pk, "reject"]), {"reason": "no"})
    audited("promotion.reject", maintainer)
    signed_in(owner).post(reverse("console:promotion-decide", args=[promotion.pk, "cancel"]))
    promotion.refresh_from_db()
    assert promotion.status == "rejected"  # decided already: the withdrawal is refused


def test_a_rollout_is_started_paused_and_aborted(maintainer, owner, ready_iris, iris_onnx):
    services.alias_set(actor=owner, model=ready_iris.model, name="staging", version=ready_iris)
    make_version(ready_iris.model, owner, iris_onnx[0])
    client = signed_in(maintainer)
    response = client.post(reverse("console:rollout-new", args=["iris"]), {
        "alias": "staging", "version": "2", "strategy": "canary", "steps": "10, 100", "step_seconds": "30",
        "max_error_rate": "0.02", "min_requests": "50"})
    rollout = Rollout.objects.get()
    assert response.status_code == 302 and rollout.guards == {"max_error_rate": 0.02, "min_requests": 50}
    audited("rollout.start", maintainer)
    for action in ("pause", "abort"):
        assert client.post(reverse("console:rollout-action", args=["iris", rollout.pk, action])).status_code == 302
        audited(f"rollout.{action}", maintainer)
    rollout.refresh_from_db()
    assert rollout.status == "aborted"


def test_a_bad_rollout_form_names_its_field(maintainer, owner, ready_iris, iris_onnx):
    make_version(ready_iris.model, owner, iris_onnx[0])
    response = signed_in(maintainer).post(reverse("console:rollout-new", args=["iris"]), {
        "alias": "production", "version": "2", "strategy": "canary", "steps": "50, 40", "step_seconds": "30"})
    assert response.status_code == 400 and b'data-field="steps"' in response.content
    assert b"steps must increase" in response.content and not Rollout.objects.exists()


def test_a_batch_job_is_submitted_and_cancelled(teammate, ready_iris):
    client = signed_in(teammate)
    response = client.post(reverse("console:batch"), {
        "model": "iris", "target": "alias", "alias": "production", "output_format": "csv", "max_error_rate": "0",
        "id_column": "id", "file": SimpleUploadedFile("rows.csv", csv_bytes(iris_like(20)))})
    assert response.status_code == 302
    job = BatchJob.objects.get()
    assert job.rows_total == 20 and job.created_by == teammate
    audited("batch_job.create", teammate)
    assert client.post(reverse("console:batch-cancel", args=[job.uuid])).status_code == 302
    audited("batch_job.cancel", teammate)


def test_a_refused_batch_submit_keeps_no_input(teammate, ready_iris, artifact_root):
    before = stored_files(artifact_root)
    response = signed_in(teammate).post(reverse("console:batch"), {
        "model": "iris", "target": "version", "version": "9", "output_format": "csv", "max_error_rate": "0",
        "file": SimpleUploadedFile("rows.csv", csv_bytes(iris_like(5)))})
    assert response.status_code == 404 and b"no version 9" in response.content
    assert not BatchJob.objects.exists() and not BatchInput.objects.exists()
    assert stored_files(artifact_root) == before


def test_a_team_owner_makes_and_revokes_a_token(owner, team):
    client = signed_in(owner)
    response = client.post(reverse("console:token-new", args=["acme"]), {"name": "ci", "role": "predictor",
                                                                         "days": "30"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert b'id="token-secret"' in response.content
    token = ServiceToken.objects.get()
    audited("service_token.create", owner)
    assert b'id="token-secret"' not in client.get(reverse("console:teams")).content
    assert client.post(reverse("console:token-revoke", args=["acme", token.pk])).status_code == 302
    audited("service_token.revoke", owner)
    response = client.post(reverse("console:token-new", args=["acme"]), {"name": "x", "role": "owner", "days": "0"})
    assert response.status_code == 400 and b'data-field="days"' in response.content
    assert ServiceToken.objects.count() == 1


def test_a_duplicate_model_name_is_shown_by_the_field(maintainer, model):
    response = signed_in(maintainer).post(reverse("console:model-new"), {"team": "acme", "name": "iris"})
    assert response.status_code in (400, 409)
    assert RegisteredModel.objects.filter(name="iris").count() == 1


def test_a_rollout_of_a_protected_alias_starts_after_an_approved_rollout_request(maintainer, owner, ready_iris,
                                                                                iris_onnx):
    model = ready_iris.model
    model.protected_aliases = ["production"]
    model.save()
    make_version(model, owner, iris_onnx[0])
    signed_in(maintainer).post(reverse("console:promotion-new", args=["iris", 2]),
                               {"alias": "production", "purpose": "rollout", "reason": "canary it"})
    promotion = PromotionRequest.objects.get()
    assert promotion.purpose == "rollout"
    signed_in(owner).post(reverse("console:promotion-decide", args=[promotion.pk, "approve"]))
    assert model.aliases.get(name="production").version == ready_iris  # a rollout request moves nothing itself
    response = signed_in(maintainer).post(reverse("console:rollout-new", args=["iris"]), {
        "alias": "production", "version": "2", "strategy": "canary", "steps": "50, 100", "step_seconds": "30"})
    assert response.status_code == 302 and Rollout.objects.get().alias == "production"


def test_a_refused_promotion_request_keeps_what_was_typed(maintainer, ready_iris):
    response = signed_in(maintainer).post(reverse("console:promotion-new", args=["iris", 1]),
                                          {"alias": "production", "reason": "again"})
    assert response.status_code == 409  # production points at v1 already
    assert b'data-field="form"' in response.content or b'data-field="version"' in response.content
    assert b">again</textarea>" in response.content and not PromotionRequest.objects.exists()


def test_aliases_are_pointed_and_protected_from_the_model_page(maintainer, owner, ready_iris):
    response = signed_in(maintainer).post(reverse("console:alias-move", args=["iris"]),
                                          {"alias": "staging", "version": "1"})
    assert response.status_code == 302 and ready_iris.model.aliases.get(name="staging").version == ready_iris
    audited("alias.set", maintainer)
    response = signed_in(maintainer).post(reverse("console:alias-protection", args=["iris"]),
                                          {"protected": "staging"})
    assert response.status_code == 403  # owners choose what is protected
    response = signed_in(owner).post(reverse("console:alias-protection", args=["iris"]),
                                     {"protected": "production, staging"})
    assert response.status_code == 302
    assert RegisteredModel.objects.get(name="iris").protected_aliases == ["production", "staging"]
    audited("model.update", owner)
    response = signed_in(maintainer).post(reverse("console:alias-move", args=["iris"]),
                                          {"alias": "staging", "version": "1"})
    assert response.status_code == 409 and b"promotion" in response.content


def test_odd_token_expiries_are_refused_by_the_field(owner, team):
    for days in ("\u00b2", "-1", "99999", "1.5"):
        response = signed_in(owner).post(reverse("console:token-new", args=["acme"]),
                                         {"name": "ci", "role": "viewer", "days": days})
        assert response.status_code == 400, days
        assert b'data-field="days"' in response.content
    assert not ServiceToken.objects.exists()
