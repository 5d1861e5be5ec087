from django.urls import path

from rollouts.api import views

urlpatterns = [
    path("rollouts", views.RolloutListView.as_view(), name="rollout-list"),
    path("models/<str:name>/rollouts", views.ModelRolloutListView.as_view(), name="model-rollout-list"),
    path("models/<str:name>/rollouts/<int:rollout_id>", views.RolloutDetailView.as_view(), name="rollout-detail"),
    *(path(f"models/<str:name>/rollouts/<int:rollout_id>/{action}",
           views.RolloutActionView.as_view(action=action), name=f"rollout-{action}") for action in views.ACTIONS),
    path("models/<str:name>/timeline", views.TimelineView.as_view(), name="model-timeline"),
]
