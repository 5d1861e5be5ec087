"""A model: its versions with their metrics, its aliases, a chart of each metric, two versions side by side."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from console import selectors
from console.base import FormErrors, client_ip, console_view
from core.errors import ModelyardError
from registry import services
from registry.models import Role
from registry.permissions import role_at_least, team_role
from registry.promotion_diff import review_diff
from registry.selectors import model_get_for_user, version_get


@console_view
@require_safe
def model_detail(request: HttpRequest, name: str) -> HttpResponse:
    return _page(request, model_get_for_user(user=request.user, name=name, role=Role.VIEWER))


def _page(request: HttpRequest, model: Any, status: int = 200, **extra: Any) -> HttpResponse:
    role = team_role(request.user, model.team_id)
    return render(request, "console/model.html", {
        "model": model, **selectors.model_page(request.user, model), "role": role,
        "can_write": role_at_least(role, Role.MAINTAINER), "can_own": role_at_least(role, Role.OWNER),
        "errors": {}, "posted": {}, **extra}, status=status)


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


@console_view
@require_POST
def alias_move(request: HttpRequest, name: str) -> HttpResponse:
    """Point an alias at a ready version; a protected alias refuses (it moves by an approved request)."""
    model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
    alias, number = request.POST.get("alias", "").strip(), request.POST.get("version", "")
    try:
        version = version_get(model=model, number=int(number)) if number.isascii() and number.isdigit() else None
        if version is None:
            raise FormErrors({"version": "Choose a version"})
        services.alias_set(actor=request.user, model=model, name=alias, version=version, ip=client_ip(request))
    except (FormErrors, ModelyardError) as exc:
        errors = exc if isinstance(exc, FormErrors) else FormErrors.from_service(exc)
        return _page(request, model, status=errors.status, errors=errors.errors, posted=request.POST)
    messages.success(request, f"{alias} now points at v{version.version}.")
    return redirect("console:model", name=name)


@console_view
@require_POST
def alias_protection(request: HttpRequest, name: str) -> HttpResponse:
    """An owner chooses which aliases need an approved promotion request to move (four eyes)."""
    model = model_get_for_user(user=request.user, name=name, role=Role.OWNER)
    names = sorted({part.strip() for part in request.POST.get("protected", "").split(",") if part.strip()})
    try:
        services.model_update(actor=request.user, model=model, changes={"protected_aliases": names},
                              ip=client_ip(request))
    except ModelyardError as exc:
        errors = FormErrors.from_service(exc)
        return _page(request, model, status=errors.status, errors={"protected": exc.message}, posted=request.POST)
    messages.success(request, f"Protected aliases: {', '.join(names) or 'none'}.")
    return redirect("console:model", name=name)
