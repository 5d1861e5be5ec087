from django.urls import path

from registry.api import views_aliases, views_models, views_promotions, views_teams, views_versions_lifecycle

urlpatterns = [
    path("teams", views_teams.TeamListView.as_view(), name="team-list"),
    path("teams/<slug:slug>", views_teams.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<slug:slug>/members", views_teams.MemberListView.as_view(), name="member-list"),
    path("teams/<slug:slug>/members/<str:username>", views_teams.MemberDetailView.as_view(), name="member-detail"),
    path("models", views_models.ModelListView.as_view(), name="model-list"),
    path("models/<str:name>", views_models.ModelDetailView.as_view(), name="model-detail"),
    path("models/<str:name>/versions", views_models.VersionListView.as_view(), name="version-list"),
    path("models/<str:name>/versions/<int:number>", views_models.VersionDetailView.as_view(), name="version-detail"),
    path("models/<str:name>/versions/<int:number>/artifact", views_models.ArtifactDownloadView.as_view(),
         name="artifact"),
    path("models/<str:name>/versions/<int:number>/archive", views_versions_lifecycle.VersionArchiveView.as_view(),
         name="version-archive"),
    path("models/<str:name>/versions/<int:number>/restore", views_versions_lifecycle.VersionRestoreView.as_view(),
         name="version-restore"),
    path("models/<str:name>/aliases", views_aliases.AliasListView.as_view(), name="alias-list"),
    path("models/<str:name>/aliases/<str:alias>", views_aliases.AliasDetailView.as_view(), name="alias-detail"),
    path("models/<str:name>/promotions", views_promotions.ModelPromotionListView.as_view(),
         name="model-promotion-list"),
    path("promotions", views_promotions.PromotionListView.as_view(), name="promotion-list"),
    path("promotions/<int:pk>", views_promotions.PromotionDetailView.as_view(), name="promotion-detail"),
    path("promotions/<int:pk>/approve", views_promotions.PromotionApproveView.as_view(), name="promotion-approve"),
    path("promotions/<int:pk>/reject", views_promotions.PromotionRejectView.as_view(), name="promotion-reject"),
    path("promotions/<int:pk>/cancel", views_promotions.PromotionCancelView.as_view(), name="promotion-cancel"),
    path("audit", views_aliases.AuditListView.as_view(), name="audit-list"),
]
