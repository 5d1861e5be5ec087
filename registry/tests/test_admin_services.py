"""The console changes the registry only through the services.

The walk: for every model of the registry app registered with the admin, every operation the console
offers a superuser (add, change, delete, each action) is carried out through the admin's own HTTP
views and must write its audit events; every operation it does not offer must be refused with 403
and change nothing. An operation offered without a recipe below fails the walk, so a new admin page
or action cannot slip in unaudited.
"""

from collections import Counter
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.test import Client, RequestFactory

from conftest import make_version
from core.errors import Conflict
from registry import services
from registry.models import (
    AuditEvent,
    Membership,
    ModelAlias,
    ModelVersion,
    PromotionRequest,
    RegisteredModel,
    Role,
    ServiceToken,
    Team,
)
from registry.services.service_tokens import service_token_create
from registry.tests.admin_pages import act, form_data, row, submit, url
from registry.tests.factories import MembershipFactory, TeamFactory, UserFactory

W = SimpleNamespace
REGISTRY = sorted((m for m in admin.site._registry if m._meta.app_label == "registry"), key=lambda m: m.__name__)


def offered(model: type[Model]) -> set[str]:
    """What the console offers a superuser for this model: its buttons and its actions."""
    request = RequestFactory().get("/")
    request.user = get_user_model()(is_active=True, is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[model]
    ops = {op for op in ("add", "change", "delete") if getattr(model_admin, f"has_{op}_permission")(request)}
    return ops | {f"action:{name}" for name in model_admin.get_actions(request)}


# --- recipes: one change per operation the console offers; each returns the audit actions it must write

def team_add(client: Client, w: W) -> list[str]:
    page = client.get(url(Team, "add"))
    submit(client, url(Team, "add"), form_data(page) | {"slug": "newteam", "name": "New team"})
    assert Membership.objects.get(team__slug="newteam").user == w.staff  # a team starts with an owner
    return ["team.create"]


def team_change(client: Client, w: W) -> list[str]:
    newbie = UserFactory(username="newbie")
    page = client.get(url(Team, "change", w.team.pk))
    data = form_data(page) | {"name": "Acme Corp", "memberships-TOTAL_FORMS": 5,
                              "memberships-4-user": newbie.pk, "memberships-4-role": Role.VIEWER,
                              f"{row(page, 'mo-maintainer')}-role": Role.PREDICTOR,
                              f"{row(page, 'vera-viewer')}-DELETE": "on"}
    submit(client, url(Team, "change", w.team.pk), data)
    assert Team.objects.get(pk=w.team.pk).name == "Acme Corp"
    roles = dict(Membership.objects.filter(team=w.team).values_list("user__username", "role"))
    assert roles == {"olivia-owner": "owner", "mo-maintainer": "predictor", "tom-teammate": "predictor",
                     "newbie": "viewer"}
    return ["team.update", "membership.set", "membership.set", "membership.remove"]


def team_delete(client: Client, w: W) -> list[str]:
    submit(client, url(Team, "delete", w.empty.pk), {"post": "yes"})
    assert not Team.objects.filter(pk=w.empty.pk).exists()
    return ["team.delete"]


def team_delete_selected(client: Client, w: W) -> list[str]:
    act(client, Team, "delete_selected", w.empty)
    assert not Team.objects.filter(pk=w.empty.pk).exists()
    return ["team.delete"]


def model_add(client: Client, w: W) -> list[str]:
    page = client.get(url(RegisteredModel, "add"))
    submit(client, url(RegisteredModel, "add"), form_data(page) | {"team": w.team.pk, "name": "churn"})
    assert RegisteredModel.objects.get(name="churn").created_by == w.staff
    return ["model.create"]


def model_change(client: Client, w: W) -> list[str]:
    page = client.get(url(RegisteredModel, "change", w.model.pk))
    submit(client, url(RegisteredModel, "change", w.model.pk),
           form_data(page) | {"name": "iris-moved", "team": w.beta.pk})
    model = RegisteredModel.objects.get(pk=w.model.pk)
    assert (model.name, model.team) == ("iris-moved", w.beta)
    return ["model.update", "model.update"]  # one for the team it left, one for the team it joined


def version_archive(client: Client, w: W) -> list[str]:
    act(client, ModelVersion, "archive", w.v2)
    assert ModelVersion.objects.get(pk=w.v2.pk).status == "archived"
    return ["version.archive"]


def version_restore(client: Client, w: W) -> list[str]:
    version_archive(client, w)
    act(client, ModelVersion, "restore", w.v2)
    assert ModelVersion.objects.get(pk=w.v2.pk).status == "ready"
    return ["version.archive", "version.restore"]


def alias_add(client: Client, w: W) -> list[str]:
    page = client.get(url(ModelAlias, "add"))
    submit(client, url(ModelAlias, "add"),
           form_data(page) | {"model": w.model.pk, "name": "staging", "version": w.v2.pk})
    assert ModelAlias.objects.get(name="staging").version == w.v2
    return ["alias.set"]


def alias_change(client: Client, w: W) -> list[str]:
    page = client.get(url(ModelAlias, "change", w.alias.pk))
    submit(client, url(ModelAlias, "change", w.alias.pk), form_data(page) | {"version": w.v2.pk})
    assert ModelAlias.objects.get(pk=w.alias.pk).version == w.v2
    return ["alias.set"]


def alias_delete(client: Client, w: W) -> list[str]:
    submit(client, url(ModelAlias, "delete", w.alias.pk), {"post": "yes"})
    assert not ModelAlias.objects.exists()
    return ["alias.delete"]


def alias_delete_selected(client: Client, w: W) -> list[str]:
    act(client, ModelAlias, "delete_selected", w.alias)
    assert not ModelAlias.objects.exists()
    return ["alias.delete"]


def promotion_approve(client: Client, w: W) -> list[str]:
    act(client, PromotionRequest, "approve", w.promotion)
    assert PromotionRequest.objects.get(pk=w.promotion.pk).status == "approved"
    assert ModelAlias.objects.get(name="canary").version == w.v2
    return ["promotion.approve", "alias.set"]


def promotion_reject(client: Client, w: W) -> list[str]:
    act(client, PromotionRequest, "reject", w.promotion)
    assert PromotionRequest.objects.get(pk=w.promotion.pk).status == "rejected"
    return ["promotion.reject"]


def service_token_revoke(client: Client, w: W) -> list[str]:
    act(client, ServiceToken, "revoke", w.token)
    token = ServiceToken.objects.select_related("account").get(pk=w.token.pk)
    assert token.revoked_at is not None and not token.account.is_active
    return ["service_token.revoke"]


RECIPES: dict[tuple[type[Model], str], Callable[[Client, W], list[str]]] = {
    (Team, "add"): team_add, (Team, "change"): team_change, (Team, "delete"): team_delete,
    (Team, "action:delete_selected"): team_delete_selected,
    (RegisteredModel, "add"): model_add, (RegisteredModel, "change"): model_change,
    (ModelVersion, "action:archive"): version_archive, (ModelVersion, "action:restore"): version_restore,
    (ModelAlias, "add"): alias_add, (ModelAlias, "change"): alias_change, (ModelAlias, "delete"): alias_delete,
    (ModelAlias, "action:delete_selected"): alias_delete_selected,
    (PromotionRequest, "action:approve"): promotion_approve, (PromotionRequest, "action:reject"): promotion_reject,
    (ServiceToken, "action:revoke"): service_token_revoke,
}
OFFERED = [(model, op) for model in REGISTRY for op in sorted(offered(model))]
REFUSED = [(model, op) for model in REGISTRY for op in ("add", "change", "delete") if op not in offered(model)]


def case_id(case: Any) -> str:
    return case.__name__.lower() if isinstance(case, type) else str(case)


@pytest.fixture
def w(client, ready_iris, model, owner, maintainer, teammate, viewer, iris_onnx) -> W:
    staff = UserFactory(username="sam-staff", is_staff=True, is_superuser=True)
    client.force_login(staff)
    empty = TeamFactory(slug="empty")
    MembershipFactory(team=empty, user=owner, role=Role.OWNER)
    v2 = make_version(model, owner, iris_onnx[0])
    # On its own alias, so that the recipes moving production leave it open.
    promotion = services.promotion_request(actor=owner, model=model, alias="canary", version=v2, reason="better")
    beta = TeamFactory(slug="beta")
    token, _ = service_token_create(actor=staff, team=beta, role=Role.PREDICTOR, name="ci")  # not in acme's members
    return W(staff=staff, team=model.team, model=model, v1=ready_iris, v2=v2, promotion=promotion,
             alias=ModelAlias.objects.get(name="production"), beta=beta, empty=empty, token=token)


def test_the_walk_sees_the_registry_pages():
    assert {Team, RegisteredModel, ModelVersion, ModelAlias, AuditEvent} <= set(REGISTRY)


# (The parameter is "entity": "model" is the conftest fixture of the iris model.)
@pytest.mark.parametrize(("entity", "op"), OFFERED, ids=case_id)
def test_each_change_the_console_offers_writes_its_audit_events(client, w, entity, op):
    recipe = RECIPES.get((entity, op))
    assert recipe is not None, f"the console offers {op} on {entity.__name__}: add a recipe to this walk"
    first = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    expected = recipe(client, w)
    events = AuditEvent.objects.filter(id__gt=first)
    assert Counter(events.values_list("action", flat=True)) == Counter(expected)
    assert {(e.actor, e.ip) for e in events} == {(w.staff, "127.0.0.1")}


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in [*REGISTRY, Membership, LogEntry]}


@pytest.mark.parametrize(("entity", "op"), REFUSED, ids=case_id)
def test_what_no_service_covers_is_refused(client, w, entity, op):
    obj = entity.objects.order_by("pk").first()
    assert obj is not None
    before = snapshot()
    target = {"add": url(entity, "add"), "change": url(entity, "change", obj.pk),
              "delete": url(entity, "delete", obj.pk)}[op]
    assert client.post(target, {"post": "yes", "status": "ready", "name": "x"}).status_code == 403
    assert snapshot() == before


# --- rules that hold through the console, shown to the staff user as messages -----------------------

def error_messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


@pytest.mark.parametrize("edit", [{"role": Role.VIEWER}, {"DELETE": "on"}], ids=["demoted", "removed"])
def test_a_team_keeps_its_last_owner_and_the_whole_page_is_refused(client, w, edit):
    page = client.get(url(Team, "change", w.team.pk))
    prefix = row(page, "olivia-owner")
    data = form_data(page) | {"name": "Renamed"} | {f"{prefix}-{k}": v for k, v in edit.items()}
    before = snapshot()
    response = client.post(url(Team, "change", w.team.pk), data, follow=True)
    assert response.status_code == 200
    assert error_messages(response) == ["Nothing was changed: A team must keep at least one owner"]
    assert snapshot() == before  # the rename, the audit rows and the admin log entry are rolled back too


@pytest.mark.parametrize(("edit", "actions"), [
    ({"role": Role.VIEWER}, ["membership.set", "membership.set"]),
    ({"DELETE": "on"}, ["membership.set", "membership.remove"]),
], ids=["demoted", "removed"])
def test_ownership_is_handed_over_in_one_submit_whatever_the_row_order(client, w, edit, actions):
    page = client.get(url(Team, "change", w.team.pk))
    old, new = row(page, "olivia-owner"), row(page, "mo-maintainer")
    assert old < new  # the old owner's row comes first: applying it first would leave no owner
    data = form_data(page) | {f"{old}-{k}": v for k, v in edit.items()} | {f"{new}-role": Role.OWNER}
    submit(client, url(Team, "change", w.team.pk), data)
    owners = Membership.objects.filter(team=w.team, role=Role.OWNER).values_list("user__username", flat=True)
    assert list(owners) == ["mo-maintainer"]
    events = AuditEvent.objects.order_by("id").values_list("action", "target")
    assert list(events)[-2:] == [(actions[0], "team:acme/user:mo-maintainer"),
                                 (actions[1], "team:acme/user:olivia-owner")]


def test_a_refusal_in_a_bulk_delete_keeps_every_selected_row(client, w, monkeypatch):
    """delete_selected deletes row by row outside the admin's transactions: the console adds its own."""
    second = TeamFactory(slug="empty-too")
    MembershipFactory(team=second, user=w.staff, role=Role.OWNER)
    real, calls = services.team_delete, []

    def refuse_the_second(**kwargs: Any) -> None:
        calls.append(kwargs["team"].slug)
        if len(calls) == 2:
            raise Conflict("refused for this test")
        real(**kwargs)

    monkeypatch.setattr(services, "team_delete", refuse_the_second)
    before = snapshot()
    response = client.post(url(Team, "changelist"), {"action": "delete_selected", "post": "yes", "index": 0,
                                                    "_selected_action": [w.empty.pk, second.pk]}, follow=True)
    assert len(calls) == 2 and error_messages(response) == ["Nothing was changed: refused for this test"]
    assert snapshot() == before  # the first team, its audit row and both admin log entries are back


def test_giving_a_row_another_user_moves_the_membership(client, w):
    newbie = UserFactory(username="newbie")
    page = client.get(url(Team, "change", w.team.pk))
    submit(client, url(Team, "change", w.team.pk), form_data(page) | {f"{row(page, 'vera-viewer')}-user": newbie.pk})
    members = set(Membership.objects.filter(team=w.team).values_list("user__username", flat=True))
    assert "newbie" in members and "vera-viewer" not in members
    removed = AuditEvent.objects.get(action="membership.remove")
    assert removed.target == "team:acme/user:vera-viewer"


def test_a_rename_onto_a_taken_name_is_a_form_error(client, w):
    services.model_create(actor=w.staff, team=w.team, name="taken")
    page = client.get(url(RegisteredModel, "change", w.model.pk))
    before = snapshot()
    response = client.post(url(RegisteredModel, "change", w.model.pk), form_data(page) | {"name": "taken"})
    assert response.status_code == 200 and "name" in response.context["adminform"].form.errors
    assert snapshot() == before


def test_archiving_refuses_an_aliased_version_by_name_and_archives_the_rest(client, w):
    response = client.post(url(ModelVersion, "changelist"), {"action": "archive", "index": 0,
                                                            "_selected_action": [w.v1.pk, w.v2.pk]}, follow=True)
    assert error_messages(response) == [
        "iris v1: Version 1 is in use by alias 'production'; move or stop that first"]
    statuses = dict(ModelVersion.objects.values_list("version", "status"))
    assert statuses == {1: "ready", 2: "archived"}
    assert AuditEvent.objects.filter(action="version.archive").count() == 1


def test_a_team_that_holds_models_is_not_deleted(client, w):
    before = snapshot()
    response = client.post(url(Team, "delete", w.team.pk), {"post": "yes"})
    assert response.status_code == 200 and response.context["protected"]  # the admin's own guard
    assert snapshot() == before
