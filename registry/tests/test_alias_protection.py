"""A protected alias moves only by an approved promotion request: through the API, the console and the shell."""

import pytest

from conftest import make_version
from core.errors import Conflict
from registry import services
from registry.models import AuditEvent, ModelAlias, PromotionRequest, RegisteredModel
from registry.tests.admin_pages import form_data, url
from registry.tests.factories import UserFactory

URL = "/api/v1/models/iris/aliases/production"


def test_alias_set_and_delete_refuse_a_protected_alias(protected, candidate, owner):
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict) as caught:
        services.alias_set(actor=owner, model=protected, name="production", version=candidate)
    assert (caught.value.code, caught.value.field) == ("approval_required", "alias")
    assert "/api/v1/models/iris/promotions" in caught.value.message
    with pytest.raises(Conflict) as deleted:
        services.alias_delete(actor=owner, model=protected, name="production")
    assert deleted.value.code == "approval_required"
    assert ModelAlias.objects.get(name="production").version.version == 1 and AuditEvent.objects.count() == before


def test_a_protected_alias_that_does_not_exist_yet_cannot_be_created_directly(model, owner, iris_onnx):
    model.protected_aliases = ["production"]
    model.save()
    version = make_version(model, owner, iris_onnx[0])
    with pytest.raises(Conflict):
        services.alias_set(actor=owner, model=model, name="production", version=version)
    services.alias_set(actor=owner, model=model, name="staging", version=version)  # not protected
    assert list(ModelAlias.objects.values_list("name", flat=True)) == ["staging"]


def test_the_protection_is_read_under_the_lock_not_from_the_callers_copy(model, ready_iris, owner, iris_onnx):
    second = make_version(model, owner, iris_onnx[0])
    stale_copy = RegisteredModel.objects.get(pk=model.pk)
    RegisteredModel.objects.filter(pk=model.pk).update(protected_aliases=["production"])
    with pytest.raises(Conflict):
        services.alias_set(actor=owner, model=stale_copy, name="production", version=second)


def test_new_models_protect_production_unless_created_otherwise(team, owner):
    assert services.model_create(actor=owner, team=team, name="churn").protected_aliases == ["production"]
    loose = services.model_create(actor=owner, team=team, name="scratch", protected_aliases=[])
    assert loose.protected_aliases == []
    assert AuditEvent.objects.filter(action="model.create").first().after["protected_aliases"] == []
    assert RegisteredModel.objects.create(team=team, name="shell-made").protected_aliases == ["production"]


def test_the_api_answers_409_approval_required_and_points_to_promotions(as_user, maintainer, protected, candidate):
    response = as_user(maintainer).put(URL, {"version": 2}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("approval_required", "alias") and "promotions" in error["message"]
    assert as_user(maintainer).delete(URL).status_code == 409
    assert as_user(maintainer).put("/api/v1/models/iris/aliases/staging", {"version": 2},
                                   format="json").status_code == 200
    assert ModelAlias.objects.get(name="production").version.version == 1


def test_a_model_created_through_the_api_is_protected(as_user, maintainer):
    response = as_user(maintainer).post("/api/v1/models", {"team": "acme", "name": "churn"}, format="json")
    assert response.status_code == 201 and response.json()["protected_aliases"] == ["production"]


def test_only_an_owner_changes_the_protected_list(as_user, maintainer, owner, protected):
    url, body = "/api/v1/models/iris", {"protected_aliases": []}
    response = as_user(maintainer).patch(url, body, format="json")
    assert response.status_code == 403  # else one maintainer could lift the four-eyes rule and move alone
    assert RegisteredModel.objects.get(pk=protected.pk).protected_aliases == ["production"]
    assert as_user(maintainer).patch(url, {"description": "still fine"}, format="json").status_code == 200
    assert as_user(owner).patch(url, body, format="json").json()["protected_aliases"] == []
    assert AuditEvent.objects.get(action="model.update", after__protected_aliases=[]).actor == owner


@pytest.fixture
def staff(client, db):
    user = UserFactory(username="sam-staff", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def error_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def test_the_console_refuses_to_move_or_delete_a_protected_alias(client, staff, protected, candidate):
    alias = ModelAlias.objects.get(name="production")
    before = AuditEvent.objects.count()
    page = url(ModelAlias, "change", alias.pk)
    moved = client.post(page, form_data(client.get(page)) | {"version": candidate.pk}, follow=True)
    assert error_messages(moved) == [
        "Nothing was changed: Alias 'production' of model 'iris' is protected: it moves only by an approved "
        "promotion request (POST /api/v1/models/iris/promotions)"]
    deleted = client.post(url(ModelAlias, "delete", alias.pk), {"post": "yes"}, follow=True)
    assert error_messages(deleted)[0].startswith("Nothing was changed: Alias 'production' of model 'iris'")
    assert ModelAlias.objects.get(pk=alias.pk).version.version == 1 and AuditEvent.objects.count() == before


def test_the_console_lists_and_shows_promotion_requests(client, staff, open_request):
    listing = client.get(url(PromotionRequest, "changelist"))
    assert listing.status_code == 200 and open_request in listing.context["cl"].result_list
    assert client.get(url(PromotionRequest, "change", open_request.pk)).status_code == 200


def test_the_console_approves_through_the_service_and_keeps_four_eyes(client, staff, protected, candidate):
    mine = services.promotion_request(actor=staff, model=protected, alias="production", version=candidate,
                                      reason="staff asks")
    response = client.post(url(PromotionRequest, "changelist"),
                           {"action": "approve", "_selected_action": [mine.pk], "index": 0}, follow=True)
    assert error_messages(response) == [
        f"{mine}: Four eyes: a promotion request is decided by someone other than its requester"]
    assert ModelAlias.objects.get(name="production").version.version == 1
