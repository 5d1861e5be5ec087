from django.urls import path

from serving.api import v1

# The predict paths first: "<name>" alone would also match "iris:predict".
urlpatterns = [
    path("models/<str:name>:predict", v1.PredictView.as_view(), name="v1-predict"),
    path("models/<str:name>/versions/<str:version>:predict", v1.PredictView.as_view(), name="v1-version-predict"),
    path("models/<str:name>/labels/<str:label>:predict", v1.PredictView.as_view(), name="v1-label-predict"),
    path("models/<str:name>", v1.ModelStatusView.as_view(), name="v1-model"),
    path("models/<str:name>/versions/<str:version>", v1.ModelStatusView.as_view(), name="v1-version"),
    path("models/<str:name>/labels/<str:label>", v1.ModelStatusView.as_view(), name="v1-label"),
]
