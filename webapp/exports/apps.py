from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "webapp.exports"
    label = "exports"

    def ready(self):
        from webapp.exports import services
        from webapp.runs import kinds

        kinds.register(kinds.JobKind(name=services.EXPORT_JOB_KIND, run=services.export_job_run,
                                     cleanup=services.export_job_cleanup, label="Export",
                                     audit_prefix="export"))
