from django.urls import path

from serving.api import v2

urlpatterns = [
    path("health/live", v2.LiveView.as_view(), name="v2-live"),
    path("health/ready", v2.ReadyView.as_view(), name="v2-ready"),
    path("models/<str:name>", v2.ModelMetadataView.as_view(), name="v2-model"),
    path("models/<str:name>/ready", v2.ModelReadyView.as_view(), name="v2-model-ready"),
    path("models/<str:name>/infer", v2.InferView.as_view(), name="v2-infer"),
    path("models/<str:name>/versions/<str:version>", v2.ModelMetadataView.as_view(), name="v2-version"),
    path("models/<str:name>/versions/<str:version>/ready", v2.ModelReadyView.as_view(), name="v2-version-ready"),
    path("models/<str:name>/versions/<str:version>/infer", v2.InferView.as_view(), name="v2-version-infer"),
]
