"""Every console page opens for a member of the team, with what that member may do and nothing more."""

import pytest
from django.urls import reverse

from conftest import make_version
from registry import services


@pytest.fixture
def busy(ready_iris, owner, maintainer, iris_onnx):
    """Two versions with metrics, production protected, and an open promotion request from the owner."""
    model = ready_iris.model
    second = make_version(model, owner, iris_onnx[0], filename="iris.onnx", metrics={"accuracy": 0.97, "f1": 0.95},
                          input_example=iris_onnx[1])
    model.protected_aliases = ["production"]
    model.save()
    promotion = services.promotion_request(actor=owner, model=model, alias="production", version=second,
                                           reason="better accuracy")
    return {"model": model, "second": second, "promotion": promotion}


PAGES = [
    ("console:home", {}),
    ("console:model", {"name": "iris"}),
    ("console:upload", {"name": "iris"}),
    ("console:version", {"name": "iris", "number": 2}),
    ("console:version-status", {"name": "iris", "number": 2}),
    ("console:rollout-new", {"name": "iris"}),
    ("console:promotions", {}),
    ("console:rollouts", {}),
    ("console:batch", {}),
    ("console:audit", {}),
    ("console:teams", {}),
]


@pytest.mark.parametrize(("page", "kwargs"), PAGES)
def test_every_page_opens_for_a_maintainer(browser_as, maintainer, busy, page, kwargs):
    response = browser_as(maintainer).get(reverse(page, kwargs=kwargs))
    assert response.status_code == 200, response.content[:2000]


def test_the_review_page_shows_the_diff_and_lets_a_second_maintainer_decide(browser_as, maintainer, busy):
    page = browser_as(maintainer).get(reverse("console:promotion", args=[busy["promotion"].pk]))
    assert page.status_code == 200
    assert b"accuracy" in page.content and b'id="approve"' in page.content


def test_the_requester_cannot_approve_their_own_request(browser_as, owner, busy):
    client = browser_as(owner)
    page = client.get(reverse("console:promotion", args=[busy["promotion"].pk]))
    assert b'id="approve"' not in page.content
    response = client.post(reverse("console:promotion-decide", args=[busy["promotion"].pk, "approve"]))
    assert response.status_code == 403
    assert b"Four eyes" in response.content


def test_compare_shows_two_versions_side_by_side(browser_as, viewer, busy):
    response = browser_as(viewer).get(reverse("console:compare", args=["iris"]), {"a": 1, "b": 2})
    assert response.status_code == 200
    assert b"v1 and v2 side by side" in response.content


def test_the_artifact_downloads_as_uploaded(browser_as, viewer, busy, iris_onnx):
    response = browser_as(viewer).get(reverse("console:version-download", args=["iris", 2]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == iris_onnx[0]
    assert response["X-Checksum-SHA256"] == busy["second"].sha256
