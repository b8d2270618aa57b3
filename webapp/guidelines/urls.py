from django.urls import path

from webapp.guidelines import views

urlpatterns = [
    path("lead/<slug:slug>/guidelines/", views.guideline_versions, name="guideline-versions"),
    path("lead/<slug:slug>/guidelines/new/", views.guideline_new, name="guideline-new"),
    path("lead/<slug:slug>/guidelines/preview", views.guideline_preview, name="guideline-preview"),
    path("lead/<slug:slug>/guidelines/diff/", views.guideline_diff, name="guideline-diff"),
]
