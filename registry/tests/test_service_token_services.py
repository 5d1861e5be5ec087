"""service_token_create / service_token_revoke / service_tokens_for_team, and what a service account may not do."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.errors import Conflict, Forbidden, ModelyardError, NotFound
from registry import services
from registry.models import AuditEvent, Membership, Role, ServiceToken
from registry.selectors import service_tokens_for_team
from registry.services.service_tokens import service_token_create, service_token_revoke
from registry.tests.service_tokens import bearer, counts

pytestmark = pytest.mark.django_db


def test_create_makes_a_service_account_with_the_role_and_audits_it(owner, team, model):
    token, secret = service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name="ci-deploy")
    account = token.account
    assert not account.has_usable_password() and not account.is_staff and account.is_active
    assert list(Membership.objects.filter(user=account).values_list("team__slug", "role")) == [("acme", "predictor")]
    event = AuditEvent.objects.get(action="service_token.create")
    assert (event.actor, event.team, event.target) == (owner, team, "team:acme/token:ci-deploy")
    assert event.after["role"] == "predictor" and event.after["id"] == token.pk
    # Only the token's id is stored: the secret is nowhere in the row or the audit event.
    assert secret not in str(ServiceToken.objects.filter(pk=token.pk).values().get())
    assert secret not in str(event.after)
    response = bearer(secret).get("/api/v1/models/iris")
    assert response.status_code == 200, response.content


def test_the_secret_carries_the_token_id_and_is_not_stored(owner, team):
    from registry.authentication import verified_claims
    from registry.tokens import SERVICE_CLAIM

    token, secret = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="reader")
    claims = verified_claims(secret)
    assert claims["jti"] == token.jti and claims[SERVICE_CLAIM] == token.pk
    assert claims["user_id"] == str(token.account_id) and claims["token_type"] == "access"


def test_expiry_goes_into_the_token_and_no_expiry_means_a_century(owner, team):
    from registry.authentication import verified_claims

    when = timezone.now() + timedelta(days=30)
    expiring, secret = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="month", expires_at=when)
    assert verified_claims(secret)["exp"] == int(when.timestamp())
    _, forever = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="forever")
    assert verified_claims(forever)["exp"] > (timezone.now() + timedelta(days=36000)).timestamp()


@pytest.mark.parametrize("creator_role, token_role, allowed", [
    ("maintainer", "maintainer", True), ("maintainer", "predictor", True), ("maintainer", "owner", False),
    ("predictor", "maintainer", False), ("viewer", "predictor", False), ("viewer", "viewer", True),
])
def test_a_token_never_has_a_higher_role_than_its_creator(request, team, creator_role, token_role, allowed):
    actor = request.getfixturevalue({"maintainer": "maintainer", "predictor": "teammate",
                                     "viewer": "viewer"}[creator_role])
    before = counts()
    if allowed:
        token, _ = service_token_create(actor=actor, team=team, role=token_role, name="t")
        assert token.role == token_role
    else:
        with pytest.raises(Forbidden) as refused:
            service_token_create(actor=actor, team=team, role=token_role, name="t")
        assert refused.value.field == "role" and counts() == before


def test_an_outsider_cannot_create_one_and_learns_nothing(outsider, team):
    with pytest.raises(NotFound):
        service_token_create(actor=outsider, team=team, role=Role.VIEWER, name="t")
    assert not ServiceToken.objects.exists()


@pytest.mark.parametrize("role, name, expires_at, field", [
    ("admin", "t", None, "role"), ("owner", "", None, "name"), ("owner", "Bad Name", None, "name"),
    ("owner", "x" * 51, None, "name"), ("owner", None, None, "name"),
    ("owner", "t", timezone.now() - timedelta(seconds=1), "expires_at"),
    ("owner", "t", (timezone.now() + timedelta(days=1)).replace(tzinfo=None), "expires_at"),
])
def test_bad_input_is_refused_and_leaves_nothing(owner, team, role, name, expires_at, field):
    before = counts()
    with pytest.raises(ModelyardError) as refused:
        service_token_create(actor=owner, team=team, role=role, name=name, expires_at=expires_at)
    assert refused.value.field == field and refused.value.status == 400
    assert counts() == before


def test_a_live_name_is_unique_in_its_team_and_free_again_once_revoked(owner, team):
    first, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    before = counts()
    with pytest.raises(Conflict):
        service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    assert counts() == before
    service_token_revoke(actor=owner, token=first)
    second, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    assert second.pk != first.pk


def test_revoke_closes_the_account_audits_and_is_idempotent(owner, team, model):
    token, secret = service_token_create(actor=owner, team=team, role=Role.MAINTAINER, name="ci")
    assert bearer(secret).get("/api/v1/models/iris").status_code == 200
    revoked = service_token_revoke(actor=owner, token=token)
    assert revoked.revoked_at is not None and revoked.revoked_by == owner
    account = get_user_model().objects.get(pk=token.account_id)
    assert not account.is_active and account.token_state.generation == 1
    assert not Membership.objects.filter(user=account).exists()
    response = bearer(secret).get("/api/v1/models/iris")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    # Reactivating the account by hand does not bring the token back: its version claim is stale.
    get_user_model().objects.filter(pk=account.pk).update(is_active=True)
    from registry.authentication import callers

    callers.drop(str(account.pk))
    assert bearer(secret).get("/api/v1/models/iris").status_code == 401
    events = AuditEvent.objects.filter(action="service_token.revoke")
    assert events.count() == 1 and events.get().actor == owner and events.get().before["role"] == "maintainer"
    service_token_revoke(actor=owner, token=token)
    assert events.count() == 1


def test_the_selector_lists_the_team_newest_first_with_state_and_last_use(owner, team, outsider, model):
    old, old_secret = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="old")
    expiring, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="soon",
                                       expires_at=timezone.now() + timedelta(days=1))
    ServiceToken.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    service_token_revoke(actor=owner, token=old)
    _, fresh_secret = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="fresh")
    services.team_create(actor=outsider, slug="elsewhere", name="Elsewhere")
    assert bearer(fresh_secret).get("/api/v1/models").status_code == 200
    listed = service_tokens_for_team(team=team)
    assert [(t.name, t.state) for t in listed] == [("fresh", "active"), ("soon", "expired"), ("old", "revoked")]
    assert listed[0].last_used_at is not None and listed[1].last_used_at is None


def test_the_selector_costs_the_same_for_many_tokens(owner, team, django_assert_num_queries):
    for i in range(12):
        service_token_create(actor=owner, team=team, role=Role.VIEWER, name=f"t{i}")
    from registry.api.views_tokens import ServiceTokenSerializer

    service_token_revoke(actor=owner, token=ServiceToken.objects.first())
    with django_assert_num_queries(1):
        rows = ServiceTokenSerializer(service_tokens_for_team(team=team), many=True).data
    assert len(rows) == 12 and {r["created_by"] for r in rows} == {owner.username}
    assert sum(r["revoked_by"] == owner.username for r in rows) == 1


def test_a_service_account_cannot_mint_tokens_or_make_teams(owner, team):
    token, _ = service_token_create(actor=owner, team=team, role=Role.OWNER, name="root")
    for call in (lambda: service_token_create(actor=token.account, team=team, role=Role.VIEWER, name="child"),
                 lambda: services.team_create(actor=token.account, slug="mine", name="Mine")):
        with pytest.raises(Forbidden) as refused:
            call()
        assert refused.value.code == "service_account"
    assert ServiceToken.objects.count() == 1


def test_a_service_accounts_membership_changes_only_through_its_token(owner, team, outsider):
    token, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    username = token.account.username
    for call in (lambda: services.membership_set(actor=owner, team=team, username=username, role=Role.OWNER),
                 lambda: services.membership_remove(actor=owner, team=team, username=username),
                 lambda: services.membership_set(actor=outsider, team=outsider.memberships.get().team,
                                                 username=username, role=Role.VIEWER)):
        with pytest.raises(ModelyardError) as refused:
            call()
        assert refused.value.code == "service_account" and refused.value.field == "username"
    assert list(Membership.objects.filter(user=token.account).values_list("team__slug", "role")) == [
        ("acme", "viewer")]


def test_an_owner_token_does_not_count_as_the_teams_owner(owner, team):
    service_token_create(actor=owner, team=team, role=Role.OWNER, name="root")
    with pytest.raises(ModelyardError) as refused:
        services.membership_remove(actor=owner, team=team, username=owner.username)
    assert refused.value.code == "last_owner"


def test_a_token_cannot_decide_a_promotion(owner, team, open_request):
    token, _ = service_token_create(actor=owner, team=team, role=Role.OWNER, name="root")
    for decide in (services.promotion_approve, services.promotion_reject):
        with pytest.raises(Forbidden) as refused:
            decide(actor=token.account, promotion=open_request, reason="automated")
        assert refused.value.code == "service_account"
    open_request.refresh_from_db()
    assert open_request.status == "open"


def test_deleting_a_team_revokes_its_tokens(owner, team):
    token, secret = service_token_create(actor=owner, team=team, role=Role.OWNER, name="root")
    services.team_delete(actor=owner, team=team)
    account = get_user_model().objects.get(pk=token.account_id)
    assert not account.is_active and not ServiceToken.objects.exists()
    assert bearer(secret).get("/api/v1/teams").status_code == 401
    assert AuditEvent.objects.filter(action="service_token.revoke").count() == 1
