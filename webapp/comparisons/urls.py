from django.urls import path

from webapp.comparisons import views

# Provenance pages (judgment → guideline, batch, responses).
urlpatterns = [
    path("provenance/judgments/<int:judgment_id>/", views.judgment_page, name="judgment-provenance"),
    path("provenance/comparisons/<int:comparison_id>/", views.comparison_page, name="comparison-provenance"),
    path("provenance/imports/<int:batch_id>/", views.import_batch_page, name="import-batch"),
]
