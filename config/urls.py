from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from config import auth_views, health, metrics
from registry.api import views_sessions
from serving.api import v2

admin.site.site_header = "Modelyard console"
admin.site.site_title = "Modelyard"
admin.site.index_title = "Registry, serving and jobs"

urlpatterns = [
    # Serving routes first: URL resolution is a measurable part of a one-row prediction.
    path("api/v1/", include("serving.api.urls")),
    path("v2", v2.ServerMetadataView.as_view(), name="v2-server"),
    path("v2/", include("serving.api.v2_urls")),
    path("v1/", include("serving.api.v1_urls")),  # TensorFlow Serving / KServe v1
    path("admin/", admin.site.urls),
    path("console/", include("console.urls")),
    path("", RedirectView.as_view(pattern_name="console:home"), name="root"),
    path("api/auth/token", auth_views.TokenObtainView.as_view(), name="token-obtain"),
    path("api/auth/token/refresh", auth_views.TokenRefreshView.as_view(), name="token-refresh"),
    path("api/auth/token/revoke", auth_views.TokenRevokeView.as_view(), name="token-revoke"),
    path("api/auth/token/revoke-all", views_sessions.RevokeAllView.as_view(), name="token-revoke-all"),
    path("api/v1/", include("registry.api.urls")),
    path("api/v1/", include("batch.api.urls")),
    path("api/v1/", include("rollouts.api.urls")),
    path("api/schema", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    # The split view serves its start-up script as a file, so the docs need no inline script (CSP).
    path("api/docs", SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[AllowAny]),
         name="docs"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler400 = "core.envelope.handler400"
handler403 = "core.envelope.handler403"
handler404 = "core.envelope.handler404"
handler500 = "core.envelope.handler500"
