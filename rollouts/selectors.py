"""Reads: rollouts a user may see, one rollout of a model, and its events."""

from django.db.models import QuerySet

from core.errors import NotFound
from registry.models import RegisteredModel
from registry.permissions import User
from registry.selectors import teams_visible
from rollouts.models import Rollout


def rollouts_visible(user: User) -> QuerySet[Rollout]:
    rollouts = Rollout.objects.select_related("model", "stable", "candidate", "created_by")
    return rollouts if user.is_staff else rollouts.filter(model__team__in=teams_visible(user))


def rollout_get(*, model: RegisteredModel, rollout_id: int) -> Rollout:
    rollout = (Rollout.objects.select_related("model__team", "stable", "candidate", "created_by")
               .filter(model=model, pk=rollout_id).first())
    if rollout is None:
        raise NotFound(f"Model {model.name!r} has no rollout {rollout_id}")
    return rollout
