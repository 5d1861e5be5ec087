from django.urls import path

from serving.api import views

urlpatterns = [
    path("models/<str:name>/versions/<int:number>/predict", views.VersionPredictView.as_view(),
         name="version-predict"),
    path("models/<str:name>/aliases/<str:alias>/predict", views.AliasPredictView.as_view(), name="alias-predict"),
    path("models/<str:name>/aliases/<str:alias>/invocations", views.AliasInvocationsView.as_view(),
         name="alias-invocations"),
]
