"""What served an alias when, from the audit log: before, during and after a rollout."""

import time

from django.utils import timezone

from registry.services.traffic import traffic_split_set
from rollouts import services

URL = "/api/v1/models/iris/timeline"


def test_the_timeline_answers_before_during_and_after(as_user, viewer, owner, model, candidate, start):
    time.sleep(0.01)
    before = timezone.now()
    rollout = start()
    traffic_split_set(actor=None, model=model, alias="production", candidate=candidate, weight=25,
                      context={"rollout": rollout.id})
    time.sleep(0.01)
    during = timezone.now()
    time.sleep(0.01)
    services.rollout_promote(actor=owner, rollout=rollout)
    after = timezone.now()
    client = as_user(viewer)

    def served(moment):
        body = client.get(URL, {"alias": "production", "at": moment.isoformat()}).json()
        return body["interval"]["served"]

    assert served(before) == [{"version": 1, "weight": 100}]
    assert served(during) == [{"version": 1, "weight": 75}, {"version": 2, "weight": 25}]
    assert served(after) == [{"version": 2, "weight": 100}]
    intervals = client.get(URL).json()["intervals"]
    assert [i["change"] for i in intervals] == ["alias.set", "alias.traffic", "alias.traffic", "alias.set"]
    assert intervals[2]["rollout"]["id"] == rollout.id and intervals[-1]["end"] is None


def test_before_the_alias_existed_there_is_no_interval(as_user, viewer, ready_iris):
    body = as_user(viewer).get(URL, {"at": "2001-01-01T00:00:00Z"}).json()
    assert body["interval"] is None


def test_a_bad_time_or_alias_is_a_400_naming_it(as_user, viewer, ready_iris):
    client = as_user(viewer)
    for query, field in (({"at": "yesterday"}, "at"), ({"alias": "NOT VALID"}, "alias"),
                         ({"at": "0001-01-01T00:00:00+14:00"}, "at")):
        response = client.get(URL, query)
        assert response.status_code == 400 and response.json()["error"]["field"] == field
