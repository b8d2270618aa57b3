from django.urls import path

from webapp.model_diagnostics import views

urlpatterns = [
    path("models/<int:model_id>/diagnostics/", views.model_diagnostics_page, name="model-diagnostics"),
    path("models/<int:model_id>/diagnostics/<int:job_id>.<str:fmt>", views.model_diagnostics_download,
         name="model-diagnostics-download"),
]
