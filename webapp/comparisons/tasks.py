"""Thin, idempotent Celery tasks: take ids, call one service."""
from celery import shared_task
from django.conf import settings

from webapp.comparisons import imports, services


@shared_task(name=imports.IMPORT_RUN_TASK, acks_late=True)
def import_run_task(batch_id: int) -> None:
    imports.import_run(batch_id=batch_id)


@shared_task(name="webapp.comparisons.tasks.leases_expire")
def leases_expire() -> int:
    return services.leases_expire()


@shared_task(name="webapp.comparisons.tasks.imports_sweep")
def imports_sweep() -> int:
    return imports.imports_sweep(running_for_seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
