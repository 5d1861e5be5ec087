from django.urls import path

from bench.floor import views

# Same paths as Modelyard's alias predict route, so one wrk script drives both servers.
urlpatterns = [
    path("api/v1/models/<str:name>/aliases/<str:alias>/predict", views.predict),
    path("readyz", views.readyz),
]
