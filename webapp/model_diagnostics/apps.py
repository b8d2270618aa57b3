from django.apps import AppConfig


class ModelDiagnosticsConfig(AppConfig):
    """Diagnostics of a trained reward model: agreement with the raters next to the human ceiling,
    calibration, length bias and sycophancy probes (the metrics are prefkit.model_report). It reads
    the models (training), the judgments and the probe suites (diagnostics), so it sits on top."""

    name = "webapp.model_diagnostics"
    label = "model_diagnostics"

    def ready(self):
        from django.conf import settings

        from webapp.model_diagnostics import services
        from webapp.runs import kinds

        # Scoring needs torch and the model in memory: the training queue, like scoring jobs.
        kinds.register(kinds.JobKind(name=services.MODEL_DIAGNOSTICS_JOB_KIND, run=services.model_diagnostics_job_run,
                                     cleanup=services.model_diagnostics_job_cleanup,
                                     queue=settings.WB_TRAINING_QUEUE, label="Reward-model diagnostics",
                                     audit_prefix="model_diagnostics"))
