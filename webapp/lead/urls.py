from django.urls import path

from webapp.lead import audit_views, guideline_views, views

urlpatterns = [
    path("lead/<slug:slug>/", views.lead_project, name="lead-project"),
    path("lead/<slug:slug>/import/", views.lead_import, name="lead-import"),
    path("lead/<slug:slug>/imports.json", views.lead_import_status, name="lead-import-status"),
    path("lead/<slug:slug>/requeue/", views.lead_requeue, name="lead-requeue"),
    path("lead/<slug:slug>/quiz/", views.lead_quiz, name="lead-quiz"),
    path("lead/<slug:slug>/guidelines/", guideline_views.guideline_versions, name="guideline-versions"),
    path("lead/<slug:slug>/guidelines/new/", guideline_views.guideline_new, name="guideline-new"),
    path("lead/<slug:slug>/guidelines/preview", guideline_views.guideline_preview, name="guideline-preview"),
    path("lead/<slug:slug>/guidelines/diff/", guideline_views.guideline_diff, name="guideline-diff"),
    path("audit/", audit_views.event_list, name="audit-events"),
    path("audit/export.csv", audit_views.export_csv, name="audit-export-csv"),
    path("audit/export.jsonl", audit_views.export_jsonl, name="audit-export-jsonl"),
]
