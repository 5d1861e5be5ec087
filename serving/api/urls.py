from django.urls import path

from serving.api import views

urlpatterns = [
    path("models/<str:name>/versions/<int:number>/predict", views.version_predict, name="version-predict"),
    path("models/<str:name>/aliases/<str:alias>/predict", views.alias_predict, name="alias-predict"),
    path("models/<str:name>/aliases/<str:alias>/invocations", views.alias_invocations, name="alias-invocations"),
]
