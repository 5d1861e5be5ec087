"""The console's routes. Every one needs a signed-in user; roles are checked by the selectors each view calls."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from console.views import audit, auth, batch, home, models, promotions, rollouts, teams, versions

app_name = "console"

urlpatterns = [
    path("login", auth.LoginView.as_view(), name="login"),
    path("logout", LogoutView.as_view(next_page="console:login"), name="logout"),
    path("", home.home, name="home"),
    path("models/new", home.model_new, name="model-new"),
    path("models/<str:name>", models.model_detail, name="model"),
    path("models/<str:name>/compare", models.model_compare, name="compare"),
    path("models/<str:name>/aliases", models.alias_move, name="alias-move"),
    path("models/<str:name>/protection", models.alias_protection, name="alias-protection"),
    path("models/<str:name>/upload", versions.upload, name="upload"),
    path("models/<str:name>/versions/<int:number>", versions.version_detail, name="version"),
    path("models/<str:name>/versions/<int:number>/status", versions.version_status, name="version-status"),
    path("models/<str:name>/versions/<int:number>/download", versions.version_download, name="version-download"),
    path("models/<str:name>/versions/<int:number>/promote", versions.promotion_new, name="promotion-new"),
    path("models/<str:name>/rollouts/new", rollouts.rollout_new, name="rollout-new"),
    path("models/<str:name>/rollouts/<int:rollout_id>", rollouts.rollout_detail, name="rollout"),
    path("models/<str:name>/rollouts/<int:rollout_id>/events", rollouts.rollout_events, name="rollout-events"),
    path("models/<str:name>/rollouts/<int:rollout_id>/series", rollouts.rollout_series_json, name="rollout-series"),
    path("models/<str:name>/rollouts/<int:rollout_id>/<str:action>", rollouts.rollout_action, name="rollout-action"),
    path("promotions", promotions.promotion_list, name="promotions"),
    path("promotions/<int:pk>", promotions.promotion_detail, name="promotion"),
    path("promotions/<int:pk>/<str:decision>", promotions.promotion_decide, name="promotion-decide"),
    path("rollouts", rollouts.rollout_list, name="rollouts"),
    path("batch", batch.batch_list, name="batch"),
    path("batch/rows", batch.batch_rows, name="batch-rows"),
    path("batch/<uuid:job_id>/cancel", batch.batch_cancel, name="batch-cancel"),
    path("batch/<uuid:job_id>/<str:which>", batch.batch_file, name="batch-file"),
    path("audit", audit.audit, name="audit"),
    path("teams", teams.teams, name="teams"),
    path("teams/<slug:slug>/tokens", teams.token_new, name="token-new"),
    path("teams/<slug:slug>/tokens/<int:token_id>/revoke", teams.token_revoke, name="token-revoke"),
    path("session-token", versions.session_token, name="session-token"),
]
