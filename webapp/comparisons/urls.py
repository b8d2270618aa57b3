from django.urls import path  # noqa: F401

# Provenance pages (judgment → guideline, batch, responses) live here.
urlpatterns = []
