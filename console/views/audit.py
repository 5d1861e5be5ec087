"""The audit log: what changed, who did it, when; filtered by team, model, action, actor and time."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from rest_framework.exceptions import ValidationError

from console.base import console_view
from registry.api.filters import AuditEventFilter
from registry.selectors import audit_visible, teams_visible

PAGE_ROWS = 200


@console_view
@require_safe
def audit(request: HttpRequest) -> HttpResponse:
    """The API's own filter over the same visible events; a bad date is a message by its field, not a 500."""
    query = request.GET.copy()
    for field in ("since", "until"):  # the form's datetime-local boxes carry no zone: the server's (UTC)
        if query.get(field) and len(query[field]) == 16:
            query[field] = query[field] + ":00+00:00"
    found = AuditEventFilter(query, queryset=audit_visible(request.user))
    errors: dict[str, str] = {}
    try:
        events = list(found.qs[:PAGE_ROWS]) if found.is_valid() else []
    except ValidationError as exc:  # the filter's own checks (e.g. a year out of range)
        events, errors = [], {key: str(value if isinstance(value, str) else value[0])
                              for key, value in exc.detail.items()}
    errors.update({field: str(messages[0]) for field, messages in found.errors.items()})
    return render(request, "console/audit.html", {
        "events": events, "errors": errors, "query": request.GET, "limit": PAGE_ROWS,
        "teams": list(teams_visible(request.user).values_list("slug", flat=True)),
        "actions": list(audit_visible(request.user).order_by("action").values_list("action", flat=True)
                        .distinct()[:200])},
        status=400 if errors else 200)
