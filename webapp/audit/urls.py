from django.urls import path

from webapp.audit import views

urlpatterns = [
    path("audit/", views.event_list, name="audit-events"),
    path("audit/export.csv", views.export_csv, name="audit-export-csv"),
    path("audit/export.jsonl", views.export_jsonl, name="audit-export-jsonl"),
]
