"""Thin, idempotent Celery tasks: take ids, call one service. (Imports run as jobs: webapp/runs.)"""
from celery import shared_task

from webapp.comparisons import services


@shared_task(name="webapp.comparisons.tasks.leases_expire")
def leases_expire() -> int:
    return services.leases_expire()
