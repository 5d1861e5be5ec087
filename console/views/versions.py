"""Upload a version, watch its validation, read everything about it, try it, request its promotion."""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from console import selectors
from console.base import FormErrors, client_ip, console_view, form_data, wants_json
from core.envelope import envelope
from core.errors import ModelyardError
from registry import services
from registry.api.serializers import VersionUploadSerializer
from registry.api.serializers_promotions import PromotionCreateSerializer
from registry.api.views_models import artifact_response
from registry.models import ModelVersion, Role, VersionStatus
from registry.permissions import role_at_least, team_role
from registry.selectors import model_get_for_user, version_get
from registry.tokens import access_for_user
from registry.uploads import body_read, uploads_discard

UPLOAD_FIELDS = ("sha256", "signature", "input_example", "metrics", "params", "tags", "lineage", "description")
SETTLED = (VersionStatus.READY, VersionStatus.FAILED, VersionStatus.ARCHIVED, VersionStatus.DELETED)
# Long enough for a few tries; the panel asks for a new one after a 401.
TRY_IT_TOKEN_LIFETIME = timedelta(minutes=2)


@console_view
@require_http_methods(["GET", "HEAD", "POST"])
def upload(request: HttpRequest, name: str) -> HttpResponse:
    """GET: the form. POST (a plain form or the page's script with a progress bar): the API's upload service."""
    model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
    if request.method != "POST":
        return render(request, "console/upload.html", {"model": model, "posted": {}})
    try:
        version = _create(request, model)
    except (FormErrors, ModelyardError) as exc:
        errors = exc if isinstance(exc, FormErrors) else FormErrors.from_service(exc)
        if wants_json(request):
            field, message = next(iter(errors.errors.items()))
            return JsonResponse(envelope(errors.code, message, None if field == "form" else field),
                                status=errors.status)
        return render(request, "console/upload.html", {"model": model, "errors": errors.errors,
                                                       "posted": request.POST}, status=errors.status)
    finally:
        uploads_discard(request)
    where = reverse("console:version", args=[model.name, version.version])
    if wants_json(request):
        return JsonResponse({"version": version.version, "status": version.status, "url": where}, status=201)
    messages.success(request, f"v{version.version} uploaded: it is being validated.")
    return redirect(where)


def _create(request: HttpRequest, model: Any) -> ModelVersion:
    body_read(request, lambda: request.FILES)
    fields: dict[str, Any] = {key: request.POST[key] for key in UPLOAD_FIELDS if request.POST.get(key, "").strip()}
    if "file" in request.FILES:
        fields["file"] = request.FILES["file"]
    data = form_data(VersionUploadSerializer, fields)
    upload_file = data.pop("file")
    return services.version_create(actor=request.user, model=model, upload=upload_file,
                                   meta=services.VersionMetadata(**data), ip=client_ip(request))


@console_view
@require_safe
def version_detail(request: HttpRequest, name: str, number: int) -> HttpResponse:
    return _version_page(request, name, number)


def _version_page(request: HttpRequest, name: str, number: int, *, status: int = 200, **extra: Any) -> HttpResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    version = version_get(model=model, number=number)
    return render(request, "console/version.html", {**_body(request, model, version), **extra}, status=status)


def _body(request: HttpRequest, model: Any, version: ModelVersion) -> dict[str, Any]:
    """What the version page's body shows: on the page, and swapped in live once validation settles."""
    role = team_role(request.user, model.team_id)
    return {"model": model, "version": version, "settled": version.status in SETTLED,
            "can_write": role_at_least(role, Role.MAINTAINER), "can_predict": role_at_least(role, Role.PREDICTOR),
            **selectors.version_page(version),
            "example": {"inputs": version.input_example} if version.input_example is not None else None,
            "predict_url": reverse("version-predict", args=[model.name, version.version]),
            "errors": {}, "posted": {}}


@console_view
@require_safe
def version_status(request: HttpRequest, name: str, number: int) -> HttpResponse:
    """The live part of the version page: htmx polls it until validation settles, then the rest of the page
    (signature, runtime, try-it) is swapped in beside it, without reloading the page."""
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    version = version_get(model=model, number=number)
    settled = version.status in SETTLED
    if not (settled and request.htmx):  # still polling: the badge alone, no other reads
        return render(request, "console/version_status.html", {"model": model, "version": version,
                                                               "settled": settled})
    return render(request, "console/version_status.html", {**_body(request, model, version), "body": True})


@console_view
@require_safe
def version_download(request: HttpRequest, name: str, number: int) -> FileResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.VIEWER)
    return artifact_response(version_get(model=model, number=number))


@console_view
@require_POST
def promotion_new(request: HttpRequest, name: str, number: int) -> HttpResponse:
    model = model_get_for_user(user=request.user, name=name, role=Role.MAINTAINER)
    version = version_get(model=model, number=number)
    try:
        data = form_data(PromotionCreateSerializer, {"alias": request.POST.get("alias", ""), "version": number,
                                                     "reason": request.POST.get("reason", ""),
                                                     "purpose": request.POST.get("purpose", "move")})
        promotion = services.promotion_request(actor=request.user, model=model, alias=data["alias"],
                                               version=version, reason=data["reason"], purpose=data["purpose"],
                                               ip=client_ip(request))
    except (FormErrors, ModelyardError) as exc:
        errors = exc if isinstance(exc, FormErrors) else FormErrors.from_service(exc)
        return _version_page(request, name, number, status=errors.status, errors=errors.errors,
                             posted=request.POST)
    messages.success(request, f"Promotion request #{promotion.pk} made: a teammate reviews it.")
    return redirect("console:promotion", pk=promotion.pk)


@never_cache
@console_view
@require_POST
def session_token(request: HttpRequest) -> JsonResponse:
    """A two-minute access token for the signed-in user, so the try-it panel calls the real predict route with
    the user's own rights (CSRF-protected: another site cannot obtain one; not cached; no stored row)."""
    return JsonResponse({"access": str(access_for_user(request.user, TRY_IT_TOKEN_LIFETIME))})
