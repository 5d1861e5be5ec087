"""Fixtures for promotion requests: iris with production protected, a candidate and a second reviewer."""

from typing import Any

import pytest

from conftest import make_version
from registry import services
from registry.models import ModelVersion, PromotionRequest, RegisteredModel, Role, Team
from registry.tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def protected(ready_iris: ModelVersion, model: RegisteredModel) -> RegisteredModel:
    """iris with production at v1 and protected, as every model made through the API is."""
    RegisteredModel.objects.filter(pk=model.pk).update(protected_aliases=["production"])
    model.refresh_from_db()
    return model


@pytest.fixture
def candidate(protected: RegisteredModel, owner: Any, iris_onnx: tuple[bytes, Any]) -> ModelVersion:
    return make_version(protected, owner, iris_onnx[0], metrics={"accuracy": 0.97},
                        lineage={"git_commit": "b2"})


@pytest.fixture
def reviewer(team: Team) -> Any:
    """A second maintainer: the other pair of eyes."""
    return MembershipFactory(team=team, user=UserFactory(username="rita-reviewer"), role=Role.MAINTAINER).user


@pytest.fixture
def open_request(protected: RegisteredModel, candidate: ModelVersion, maintainer: Any) -> PromotionRequest:
    return services.promotion_request(actor=maintainer, model=protected, alias="production", version=candidate,
                                      reason="better accuracy")
