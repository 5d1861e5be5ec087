"""Home: my teams' models, what waits for me, what runs now, what happened lately."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from console import selectors
from console.base import FormErrors, client_ip, console_view, form_data
from core.errors import ModelyardError
from registry import services
from registry.api.serializers import ModelCreateSerializer
from registry.models import Role, VersionStatus
from registry.permissions import require_team, teams_with_role


@console_view
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", _context(request))


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    query = request.GET.get("q", "").strip()[:100]
    return {"page": selectors.home(request.user, name_contains=query), "statuses": VersionStatus.choices,
            "query": query, "teams": teams_with_role(request.user, Role.MAINTAINER).order_by("slug"), **extra}


@console_view
@require_POST
def model_new(request: HttpRequest) -> HttpResponse:
    """Register a model in one of my teams (maintainer or more), through the API's service."""
    require_team(request.user, request.POST.get("team", ""), Role.MAINTAINER)  # outsiders 404, viewers 403
    try:
        data = form_data(ModelCreateSerializer, {"team": request.POST.get("team", ""),
                                                 "name": request.POST.get("name", "").strip(),
                                                 "description": request.POST.get("description", "")})
        team = require_team(request.user, data["team"], Role.MAINTAINER)
        model = services.model_create(actor=request.user, team=team, name=data["name"],
                                      description=data["description"], tags={}, ip=client_ip(request))
    except ModelyardError as exc:
        if exc.status == 404:
            raise
        return render(request, "console/home.html", _context(request, errors=FormErrors.from_service(exc).errors,
                                                             posted=request.POST), status=exc.status)
    except FormErrors as exc:
        return render(request, "console/home.html", _context(request, errors=exc.errors, posted=request.POST),
                      status=exc.status)
    messages.success(request, f"Model {model.name} registered: upload its first version.")
    return redirect("console:upload", name=model.name)
