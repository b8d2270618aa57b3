"""Thin, idempotent Celery tasks: take a job id, call one service."""
from celery import shared_task
from django.conf import settings

from webapp.runs import services


@shared_task(name=services.JOB_RUN_TASK, acks_late=True)
def job_run_task(job_id: int) -> None:
    services.job_run(job_id=job_id)


@shared_task(name="webapp.runs.tasks.jobs_sweep")
def jobs_sweep() -> dict:
    return services.jobs_sweep(stale_after_seconds=settings.WB_JOB_STALE_SECONDS,
                               resend_after_seconds=settings.WB_JOB_RESEND_SECONDS)
