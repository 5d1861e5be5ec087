"""Staff's token page in the Django admin: every team's tokens, revocation through the service, no secrets;
a service account's membership cannot be edited on the team page."""

import pytest

from registry.models import AuditEvent, Membership, Role, ServiceToken
from registry.services.service_tokens import service_token_create
from registry.tests.admin_pages import form_data, row, url
from registry.tests.factories import UserFactory


@pytest.fixture
def staff_client(client, db):  # noqa: ANN001, ANN201
    client.force_login(UserFactory(username="sam-staff", is_staff=True, is_superuser=True))
    return client


def test_staff_see_every_teams_tokens_but_no_secret(staff_client, owner, team, outsider):
    token, secret = service_token_create(actor=owner, team=team, role=Role.PREDICTOR, name="ci-deploy")
    for page in (staff_client.get(url(ServiceToken, "changelist")), staff_client.get(url(ServiceToken, "change",
                                                                                           token.pk))):
        assert page.status_code == 200 and b"ci-deploy" in page.content
        assert secret.encode() not in page.content and secret.split(".")[2].encode() not in page.content
    assert staff_client.get(url(ServiceToken, "add")).status_code == 403


def test_a_service_accounts_role_is_not_edited_on_the_team_page(staff_client, owner, team):
    token, _ = service_token_create(actor=owner, team=team, role=Role.VIEWER, name="ci")
    page = staff_client.get(url(type(team), "change", team.pk))
    data = form_data(page) | {f"{row(page, token.account.username)}-role": Role.OWNER}
    events = AuditEvent.objects.count()
    response = staff_client.post(url(type(team), "change", team.pk), data, follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and "is a service account: revoke its token instead" in errors[0]
    assert Membership.objects.get(user=token.account).role == Role.VIEWER
    assert AuditEvent.objects.count() == events
