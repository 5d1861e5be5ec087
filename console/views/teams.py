"""Teams, their members, and the service-account API tokens a team owner makes for automation."""

import re
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from console.base import FormErrors, client_ip, console_view
from console.selectors import my_roles
from core.errors import ModelyardError, NotFound
from registry.models import Membership, Role, ServiceToken
from registry.permissions import require_team
from registry.selectors import service_tokens_for_teams, teams_visible
from registry.services.service_tokens import service_token_create, service_token_revoke

ROLES = [Role.VIEWER, Role.PREDICTOR, Role.MAINTAINER, Role.OWNER]
# Staff see every team: the page lists the first ones by slug (the admin has the full list and search).
TEAMS_SHOWN = 100


@console_view
@require_safe
def teams(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    roles = my_roles(request.user)
    people = Membership.objects.select_related("user").exclude(user__service_token__isnull=False).order_by("role")
    found = list(teams_visible(request.user).order_by("slug").prefetch_related(Prefetch("memberships", people))
                 [:TEAMS_SHOWN])
    owned = [team.pk for team in found if roles.get(team.pk) == Role.OWNER]
    tokens = service_tokens_for_teams(team_ids=owned)
    for team in found:
        team.role = roles.get(team.pk)
        team.tokens = [token for token in tokens if token.team_id == team.pk]
    return render(request, "console/teams.html", {"teams": found, "roles": ROLES, "errors": {}, "posted": {},
                                                  **extra}, status=status)


@console_view
@require_POST
def token_new(request: HttpRequest, slug: str) -> HttpResponse:
    """A team owner makes a token; its secret is shown on this one answer and never again."""
    team = require_team(request.user, slug, Role.OWNER)
    try:
        token, secret = service_token_create(actor=request.user, team=team, role=request.POST.get("role", ""),
                                             name=request.POST.get("name", "").strip(),
                                             expires_at=_expiry(request.POST.get("days", "")), ip=client_ip(request))
    except (FormErrors, ModelyardError) as exc:
        if isinstance(exc, NotFound) and exc.field is None:
            raise
        errors = exc if isinstance(exc, FormErrors) else FormErrors.from_service(exc)
        return _page(request, status=errors.status, errors=errors.errors, error_team=slug, posted=request.POST)
    response = _page(request, created=token, secret=secret)
    response["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


def _expiry(days: str) -> Any:
    if not days.strip():
        return None
    if not re.fullmatch(r"[0-9]{1,4}", days.strip()) or not 1 <= int(days) <= 3650:
        raise FormErrors({"days": "Give a whole number of days from 1 to 3650, or leave it empty"})
    return timezone.now() + timedelta(days=int(days))


@console_view
@require_POST
def token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    team = require_team(request.user, slug, Role.OWNER)
    token = ServiceToken.objects.filter(team=team, pk=token_id).first()
    if token is None:
        raise NotFound(f"Team {slug!r} has no token {token_id}")
    service_token_revoke(actor=request.user, token=token, ip=client_ip(request))
    messages.success(request, f"Token {token.name} revoked: it stops working within a second.")
    return redirect("console:teams")
