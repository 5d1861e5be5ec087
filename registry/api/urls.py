from django.urls import path

from registry.api import views_aliases as a
from registry.api import views_models as m
from registry.api import views_teams as t

urlpatterns = [
    path("teams", t.TeamListView.as_view(), name="team-list"),
    path("teams/<slug:slug>", t.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<slug:slug>/members", t.MemberListView.as_view(), name="member-list"),
    path("teams/<slug:slug>/members/<str:username>", t.MemberDetailView.as_view(), name="member-detail"),
    path("models", m.ModelListView.as_view(), name="model-list"),
    path("models/<str:name>", m.ModelDetailView.as_view(), name="model-detail"),
    path("models/<str:name>/versions", m.VersionListView.as_view(), name="version-list"),
    path("models/<str:name>/versions/<int:number>", m.VersionDetailView.as_view(), name="version-detail"),
    path("models/<str:name>/versions/<int:number>/artifact", m.ArtifactDownloadView.as_view(), name="artifact"),
    path("models/<str:name>/aliases", a.AliasListView.as_view(), name="alias-list"),
    path("models/<str:name>/aliases/<str:alias>", a.AliasDetailView.as_view(), name="alias-detail"),
    path("audit", a.AuditListView.as_view(), name="audit-list"),
]
