from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    """Agreement, bias, rater-quality and sycophancy diagnostics of a project's judgments (the
    metrics themselves are prefkit.diagnostics). It reads several domains, so it sits in the top row."""

    name = "webapp.diagnostics"
    label = "diagnostics"


    def ready(self):
        from webapp.diagnostics import services
        from webapp.runs import kinds

        kinds.register(kinds.JobKind(name=services.DIAGNOSTICS_JOB_KIND, run=services.diagnostics_job_run,
                                     label="Diagnostics", audit_prefix="diagnostics"))
