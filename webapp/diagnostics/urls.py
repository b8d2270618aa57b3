from django.urls import path

from webapp.diagnostics import views

urlpatterns = [
    path("lead/<slug:slug>/diagnostics/", views.diagnostics_page, name="diagnostics-page"),
    path("lead/<slug:slug>/diagnostics/probes/", views.probe_upload, name="diagnostics-probe-upload"),
    path("lead/<slug:slug>/diagnostics/probes/queue", views.probe_queue, name="diagnostics-probe-queue"),
    path("lead/<slug:slug>/diagnostics/thresholds/", views.thresholds_page, name="diagnostics-thresholds"),
    path("lead/<slug:slug>/diagnostics/consistency/", views.consistency_page, name="diagnostics-consistency"),
    path("lead/<slug:slug>/diagnostics/<int:job_id>.<str:fmt>", views.diagnostics_download,
         name="diagnostics-download"),
]
