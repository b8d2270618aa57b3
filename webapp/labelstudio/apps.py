from django.apps import AppConfig


class LabelStudioConfig(AppConfig):
    name = "webapp.labelstudio"
    label = "labelstudio"
    verbose_name = "Label Studio interop"

    def ready(self):
        from webapp.labelstudio import jobs
        from webapp.runs import kinds

        kinds.register(kinds.JobKind(name=jobs.PULL_JOB_KIND, run=jobs.pull_job_run, cleanup=jobs.forget_token,
                                     label="Label Studio pull", max_attempts=1))
        kinds.register(kinds.JobKind(name=jobs.PUSH_JOB_KIND, run=jobs.push_job_run, cleanup=jobs.forget_token,
                                     label="Label Studio push", max_attempts=1))
