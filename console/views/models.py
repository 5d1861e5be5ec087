"""A model: its versions with their metrics, its aliases, a chart of each metric, two versions side by side."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from console import selectors
from console.base import console_view
from core.errors import ModelyardError
from registry.models import ModelAlias, Role
from registry.permissions import team_role
from registry.promotion_diff import review_diff
from registry.selectors import model_get_for_user, version_get
from rollouts.selectors import rollouts_visible


@console_view
@require_safe
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    versions = selectors.model_versions(model)
    names = selectors.metric_names(versions)
    aliases = list(ModelAlias.objects.filter(model=model).select_related("version", "candidate_version",
                                                                           "updated_by"))
    role = team_role(request.user, model.team_id)
    return render(request, "console/model.html", {
        "model": model, "versions": versions, "metric_names": names, "aliases": aliases,
        "series": selectors.metric_series(versions, names), "role": role,
        "can_write": Role.rank(role) >= Role.rank(Role.MAINTAINER),
        "rollouts": list(rollouts_visible(request.user).filter(model=model)[:10]),
    })


@console_view
@require_safe
def model_compare(request: HttpRequest, name: str) -> HttpResponse:
    """Two versions side by side: the promotion review's own diff (metrics, signature, size, runtime)."""
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    try:
        numbers = [int(request.GET.get(key, "")) for key in ("a", "b")]
    except ValueError:
        raise ModelyardError("Choose two versions to compare", field="a") from None
    base, other = (version_get(model=model, number=number) for number in numbers)
    return render(request, "console/compare.html", {
        "model": model, "a": base, "b": other, "diff": review_diff(base, other),
        "left_label": f"v{base.version}", "right_label": f"v{other.version}"})
