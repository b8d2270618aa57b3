from django.urls import path

from webapp.exports import views

urlpatterns = [
    path("lead/<slug:slug>/export/", views.export_page, name="export-page"),
    path("exports/<int:job_id>/", views.export_provenance, name="export-provenance"),
]
