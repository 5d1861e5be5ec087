"""Promotion requests: the list, and the review page with the diff, approve and reject."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from console.base import FormErrors, client_ip, console_view, form_data
from core.errors import ModelyardError, NotFound
from registry import services
from registry.api.serializers_promotions import PromotionReasonSerializer, PromotionRejectSerializer
from registry.models import ModelAlias, PromotionStatus, Role
from registry.permissions import role_at_least, team_role
from registry.promotion_diff import review_diff
from registry.selectors import promotion_get_for_user, promotion_is_current, promotions_visible

LIST_ROWS = 100
DECISIONS = {"approve": services.promotion_approve, "reject": services.promotion_reject,
             "cancel": services.promotion_cancel}


@console_view
@require_safe
def promotion_list(request: HttpRequest) -> HttpResponse:
    visible = promotions_visible(request.user)
    return render(request, "console/promotions.html", {
        "open": list(visible.filter(status=PromotionStatus.OPEN)[:LIST_ROWS]),
        "decided": list(visible.exclude(status=PromotionStatus.OPEN)[:LIST_ROWS]),
    })


@console_view
@require_safe
def promotion_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "console/promotion.html", _review(request, pk))


def _review(request: HttpRequest, pk: int, **extra: object) -> dict[str, object]:
    promotion = promotion_get_for_user(user=request.user, pk=pk, role=Role.VIEWER)
    alias = (ModelAlias.objects.filter(model_id=promotion.model_id, name=promotion.alias)
             .select_related("version").first())
    role = team_role(request.user, promotion.model.team_id)
    current = alias.version if alias else None
    is_open = promotion.status == PromotionStatus.OPEN
    return {"promotion": promotion, "model": promotion.model, "diff": review_diff(current, promotion.version),
            "left_label": f"now (v{current.version})" if current else "now (no alias)",
            "right_label": f"v{promotion.version.version}",
            "stale": is_open and not promotion_is_current(promotion, alias),
            "can_decide": is_open and role_at_least(role, Role.MAINTAINER)
            and promotion.requested_by_id != request.user.pk,
            "own": is_open and promotion.requested_by_id == request.user.pk, "errors": {}, **extra}


@console_view
@require_POST
def promotion_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """approve, reject (a reason required) or cancel (the requester): the API's services, same checks."""
    # Maintainers decide and withdraw, as in the API (the requester's own check is the service's).
    promotion = promotion_get_for_user(user=request.user, pk=pk, role=Role.MAINTAINER)
    if decision not in DECISIONS:
        raise NotFound(f"No decision {decision!r}; there are {', '.join(DECISIONS)}")
    serializer = PromotionRejectSerializer if decision == "reject" else PromotionReasonSerializer
    action = DECISIONS[decision]
    try:
        data = form_data(serializer, {"reason": request.POST.get("reason", "")})
        action(actor=request.user, promotion=promotion, reason=data["reason"], ip=client_ip(request))
    except (FormErrors, ModelyardError) as exc:
        if isinstance(exc, ModelyardError) and exc.status == 404:
            raise
        errors = exc if isinstance(exc, FormErrors) else FormErrors.from_service(exc)
        context = _review(request, pk, errors=errors.errors, posted=request.POST, decision=decision)
        return render(request, "console/promotion.html", context, status=errors.status)
    messages.success(request, f"Promotion request #{pk}: {decision} done.")
    return redirect("console:promotion", pk=pk)
