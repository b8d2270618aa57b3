from django.urls import path

from webapp.runs import views

urlpatterns = [
    path("lead/<slug:slug>/jobs/", views.project_jobs, name="project-jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/status.json", views.job_status_json, name="job-status"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:job_id>/files/<path:name>", views.job_artifact, name="job-artifact"),
]
