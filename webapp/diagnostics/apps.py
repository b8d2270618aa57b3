from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    """Agreement, bias, rater-quality and sycophancy diagnostics of a project's judgments (the
    metrics themselves are prefkit.diagnostics). It reads several domains, so it sits in the top row."""

    name = "webapp.diagnostics"
    label = "diagnostics"

