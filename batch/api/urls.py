from django.urls import path

from batch.api import views

urlpatterns = [
    path("batch-jobs", views.JobListView.as_view(), name="batch-job-list"),
    path("batch-jobs/<uuid:job_id>", views.JobDetailView.as_view(), name="batch-job-detail"),
    path("batch-jobs/<uuid:job_id>/cancel", views.JobCancelView.as_view(), name="batch-job-cancel"),
    path("batch-jobs/<uuid:job_id>/output", views.JobOutputView.as_view(), name="batch-job-output"),
    path("batch-jobs/<uuid:job_id>/errors", views.JobErrorsView.as_view(), name="batch-job-errors"),
]
