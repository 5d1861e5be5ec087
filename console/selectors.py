"""The console's reads: each page's data in a fixed number of queries, whatever the registry holds.

Visibility comes from the apps' own selectors (``models_visible``, ``promotions_visible``, ``rollouts_visible``,
``jobs_visible``, ``audit_visible``): the console shows exactly what the API would answer, never more.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from batch.models import OPEN_STATUSES, BatchJob
from batch.selectors import jobs_visible
from registry.models import (
    Membership,
    ModelAlias,
    ModelVersion,
    PromotionRequest,
    PromotionStatus,
    RegisteredModel,
    Role,
)
from registry.permissions import User, teams_with_role
from registry.selectors import audit_visible, models_visible, promotions_visible, teams_visible
from rollouts.models import ACTIVE, Rollout, RolloutEvent
from rollouts.selectors import rollouts_visible

# Home lists are short by design: the lists behind them have their own pages.
HOME_ROWS = 20
HOME_MODELS = 100
_ALIASES = Prefetch("aliases", queryset=ModelAlias.objects.select_related("version", "candidate_version"))


def models_with_aliases(user: User) -> QuerySet[RegisteredModel]:
    return models_visible(user).prefetch_related(_ALIASES).annotate(version_count=Count("versions"))


def version_counts(user: User) -> dict[str, int]:
    rows = (ModelVersion.objects.filter(model__in=models_visible(user)).values("status")
            .annotate(n=Count("id")).order_by("status"))
    return {row["status"]: row["n"] for row in rows}


def my_roles(user: User) -> dict[int, str]:
    """Team id -> the user's role there (staff: owner everywhere, as ``registry.permissions`` says)."""
    if user.is_staff:
        return {team_id: Role.OWNER for team_id in teams_visible(user).values_list("id", flat=True)}
    return dict(Membership.objects.filter(user=user).values_list("team_id", "role"))


def reviews_for(user: User) -> list[PromotionRequest]:
    """Open requests this user may decide: maintainer or more in the team, and not their own request."""
    waiting = (promotions_visible(user).filter(status=PromotionStatus.OPEN,
                                               model__team__in=teams_with_role(user, Role.MAINTAINER))
               .exclude(requested_by=user))
    return list(waiting[:HOME_ROWS])


def active_rollouts(user: User) -> list[Rollout]:
    return list(rollouts_visible(user).filter(status__in=ACTIVE)[:HOME_ROWS])


def open_jobs(user: User) -> list[BatchJob]:
    return list(jobs_visible(user).filter(status__in=OPEN_STATUSES)[:HOME_ROWS])


@dataclass
class Home:
    models: list[RegisteredModel]
    model_count: int
    counts: dict[str, int]
    reviews: list[PromotionRequest]
    rollouts: list[Rollout]
    jobs: list[BatchJob]
    events: list[Any]
    roles: dict[int, str]


def home(user: User, *, name_contains: str = "") -> Home:
    roles = my_roles(user)
    models = models_visible(user).filter(name__icontains=name_contains) if name_contains else models_visible(user)
    return Home(models=list(models_with_aliases(user).filter(pk__in=models.values("pk"))[:HOME_MODELS]),
                model_count=models.count(), counts=version_counts(user),
                reviews=reviews_for(user), rollouts=active_rollouts(user), jobs=open_jobs(user),
                events=list(audit_visible(user)[:HOME_ROWS]), roles=roles)


def model_versions(model: RegisteredModel) -> list[ModelVersion]:
    """The versions table, newest first; the heavy fields (input example, params) are not read."""
    return list(ModelVersion.objects.filter(model=model).select_related("created_by")
                .defer("input_example", "params", "signature").order_by("-version")[:500])


def metric_names(versions: list[ModelVersion], limit: int = 6) -> list[str]:
    """The metrics worth a column: numeric, the most common first."""
    seen: dict[str, int] = {}
    for version in versions:
        for name, value in (version.metrics or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                seen[name] = seen.get(name, 0) + 1
    return sorted(seen, key=lambda name: (-seen[name], name))[:limit]


def metric_series(versions: list[ModelVersion], names: list[str]) -> dict[str, Any]:
    """For the chart of each metric across versions (oldest first); a missing value is a gap (null)."""
    ordered = sorted(versions, key=lambda version: version.version)
    return {"versions": [version.version for version in ordered],
            "metrics": {name: [_number(version.metrics.get(name)) for version in ordered] for name in names}}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def version_page(version: ModelVersion) -> dict[str, Any]:
    """The version page's lists: the aliases pointing at it and its promotion requests."""
    return {"aliases": list(ModelAlias.objects.filter(model_id=version.model_id, version=version)
                            .values_list("name", flat=True)),
            "promotions": list(PromotionRequest.objects.filter(version=version).select_related("requested_by")[:10])}


def rollout_choices(model: RegisteredModel) -> dict[str, Any]:
    """The start form's choices: the model's aliases (with where they point) and its ready versions."""
    ready = ModelVersion.objects.filter(model=model, status="ready").order_by("-version")
    return {"aliases": list(ModelAlias.objects.filter(model=model).select_related("version")),
            "versions": list(ready.values_list("version", flat=True)[:200])}


def rollout_events(rollout: Rollout) -> list[RolloutEvent]:
    return list(RolloutEvent.objects.filter(rollout=rollout).select_related("actor").order_by("-at", "-id")[:200])


def model_page(user: User, model: RegisteredModel) -> dict[str, Any]:
    """The model page's lists: versions (and the metrics worth a column), aliases, recent rollouts."""
    versions = model_versions(model)
    names = metric_names(versions)
    return {"versions": versions, "metric_names": names, "series": metric_series(versions, names),
            "aliases": list(ModelAlias.objects.filter(model=model)
                            .select_related("version", "candidate_version", "updated_by")),
            "rollouts": list(rollouts_visible(user).filter(model=model)[:10])}
