from django.apps import AppConfig


class ComparisonsConfig(AppConfig):
    name = "webapp.comparisons"
    label = "comparisons"

    def ready(self):
        from webapp.comparisons import imports
        from webapp.runs import kinds

        kinds.register(kinds.JobKind(name=imports.IMPORT_JOB_KIND, run=imports.import_job_run,
                                     cleanup=imports.import_job_cleanup, label="Import"))
