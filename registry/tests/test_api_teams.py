from registry.models import Membership
from registry.tests.factories import UserFactory


def test_any_user_creates_a_team_and_owns_it(as_user, outsider):
    response = as_user(outsider).post("/api/v1/teams", {"slug": "vision", "name": "Vision"}, format="json")
    assert response.status_code == 201
    assert Membership.objects.get(team__slug="vision").role == "owner"


def test_an_owner_adds_and_removes_members(as_user, owner):
    UserFactory(username="newbie")
    client = as_user(owner)
    added = client.post("/api/v1/teams/acme/members", {"username": "newbie", "role": "predictor"}, format="json")
    assert added.status_code == 200 and added.json()["role"] == "predictor"
    assert client.delete("/api/v1/teams/acme/members/newbie").status_code == 204
    assert not Membership.objects.filter(user__username="newbie").exists()


def test_a_maintainer_cannot_manage_members(as_user, maintainer):
    UserFactory(username="newbie")
    response = as_user(maintainer).post("/api/v1/teams/acme/members", {"username": "newbie", "role": "owner"},
                                        format="json")
    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="newbie").exists()


def test_the_last_owner_cannot_leave(as_user, owner):
    response = as_user(owner).delete(f"/api/v1/teams/acme/members/{owner.username}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "last_owner"


def test_an_outsider_sees_no_trace_of_the_team(as_user, outsider, owner):
    client = as_user(outsider)
    assert client.get("/api/v1/teams/acme").status_code == 404
    assert client.get("/api/v1/teams/acme/members").status_code == 404
    assert [t["slug"] for t in client.get("/api/v1/teams").json()["results"]] == ["other-team"]
