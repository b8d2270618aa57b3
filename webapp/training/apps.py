from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "webapp.training"
    label = "training"

    def ready(self):
        from django.conf import settings

        from webapp.runs import kinds
        from webapp.training import services

        # Both need torch and minutes of CPU: their own queue, so imports and exports never wait behind them.
        kinds.register(kinds.JobKind(name=services.TRAINING_JOB_KIND, run=services.training_job_run,
                                     cleanup=services.training_job_cleanup, queue=settings.WB_TRAINING_QUEUE,
                                     label="Reward-model training", audit_prefix="training"))
        kinds.register(kinds.JobKind(name=services.SCORING_JOB_KIND, run=services.scoring_job_run,
                                     cleanup=services.scoring_job_cleanup, queue=settings.WB_TRAINING_QUEUE,
                                     label="Reward-model scoring", audit_prefix="scoring"))
