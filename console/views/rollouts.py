"""Rollouts: start one with sensible defaults, watch it live (chart and decisions), steer it."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from console import rollout_series, selectors
from console.base import FormErrors, client_ip, console_view, form_data
from core.errors import ModelyardError, NotFound
from registry.models import Role
from registry.permissions import role_at_least, team_role
from registry.selectors import model_get_for_user
from rollouts import services
from rollouts.api.serializers import RolloutActionSerializer, RolloutCreateSerializer
from rollouts.api.views import ACTIONS
from rollouts.models import ACTIVE
from rollouts.selectors import rollout_get, rollouts_visible

DEFAULTS = {"alias": "production", "strategy": "canary", "steps": "10, 50, 100", "step_seconds": "60"}
GUARDS = ("max_error_rate", "max_p95_ms", "min_requests", "min_agreement")


@console_view
@require_safe
def rollout_list(request: HttpRequest) -> HttpResponse:
    visible = rollouts_visible(request.user)
    return render(request, "console/rollouts.html", {"active": list(visible.filter(status__in=ACTIVE)[:100]),
                                                     "ended": list(visible.exclude(status__in=ACTIVE)[:100])})


@console_view
@require_http_methods(["GET", "HEAD", "POST"])
def rollout_new(request: HttpRequest, name: str) -> HttpResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
    if request.method != "POST":
        return _form(request, model, DEFAULTS, {})
    try:
        data = form_data(RolloutCreateSerializer, _parse(request.POST))
        rollout = services.rollout_create(actor=request.user, model=model, ip=client_ip(request), **data)
    except FormErrors as exc:
        return _form(request, model, request.POST, exc.errors, status=exc.status)
    except ModelyardError as exc:
        if exc.status == 404 and exc.field is None:
            raise
        return _form(request, model, request.POST, FormErrors.from_service(exc).errors, status=exc.status)
    messages.success(request, f"Rollout #{rollout.pk} started.")
    return redirect("console:rollout", name=name, rollout_id=rollout.pk)


def _parse(post: Any) -> dict[str, Any]:
    """Form fields into the API's body: steps as a comma list, each guard its own box (blank: the default)."""
    steps = [part.strip() for part in post.get("steps", "").split(",") if part.strip()]
    guards: dict[str, Any] = {}
    for name in GUARDS:
        raw = post.get(name, "").strip()
        if raw:
            guards[name] = _number(raw, f"guards.{name}")
    body: dict[str, Any] = {"alias": post.get("alias", ""), "version": post.get("version", ""),
                            "strategy": post.get("strategy", ""), "steps": steps, "guards": guards,
                            "allow_breaking": post.get("allow_breaking") == "on", "reason": post.get("reason", "")}
    if post.get("step_seconds", "").strip():
        body["step_seconds"] = post["step_seconds"]
    return body


def _number(raw: str, field: str) -> int | float:
    try:
        value = float(raw)
    except ValueError:
        raise FormErrors({field: "Give a number"}) from None
    return int(value) if value.is_integer() and "." not in raw else value


def _form(request: HttpRequest, model: Any, posted: Any, errors: dict[str, str], status: int = 200) -> HttpResponse:
    return render(request, "console/rollout_new.html", {
        "model": model, **selectors.rollout_choices(model), "posted": posted, "errors": errors, "guards": GUARDS},
        status=status)


@console_view
@require_safe
def rollout_detail(request: HttpRequest, name: str, rollout_id: int) -> HttpResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    rollout = rollout_get(model=model, rollout_id=rollout_id)
    role = team_role(request.user, model.team_id)
    return render(request, "console/rollout.html", {
        "model": model, "rollout": rollout, "active": rollout.status in ACTIVE,
        "events": selectors.rollout_events(rollout), "can_steer": role_at_least(role, Role.MAINTAINER), "errors": {}})


@console_view
@require_safe
def rollout_events(request: HttpRequest, name: str, rollout_id: int) -> HttpResponse:
    """The decision list, polled by htmx while the rollout runs."""
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    rollout = rollout_get(model=model, rollout_id=rollout_id)
    return render(request, "console/rollout_events.html", {"model": model, "rollout": rollout,
                                                           "active": rollout.status in ACTIVE,
                                                           "events": selectors.rollout_events(rollout)})


@console_view
@require_safe
def rollout_series_json(request: HttpRequest, name: str, rollout_id: int) -> JsonResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    return JsonResponse(rollout_series.series(rollout_get(model=model, rollout_id=rollout_id)))


@console_view
@require_POST
def rollout_action(request: HttpRequest, name: str, rollout_id: int, action: str) -> HttpResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
    rollout = rollout_get(model=model, rollout_id=rollout_id)
    if action not in ACTIONS:
        raise NotFound(f"No rollout action {action!r}; there are {', '.join(ACTIONS)}")
    try:
        data = form_data(RolloutActionSerializer, {"reason": request.POST.get("reason", "")})
        ACTIONS[action](actor=request.user, rollout=rollout, reason=data["reason"], ip=client_ip(request))
    except (FormErrors, ModelyardError) as exc:
        errors = exc if isinstance(exc, FormErrors) else FormErrors.from_service(exc)
        messages.error(request, "; ".join(errors.errors.values()))
    else:
        messages.success(request, f"Rollout #{rollout.pk}: {action} done.")
    return redirect("console:rollout", name=name, rollout_id=rollout_id)
