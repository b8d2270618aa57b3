"""Enqueue Celery tasks by name.

A service names the task it starts instead of importing it: tasks.py imports the services it
calls, so an import the other way would close a loop (an import-linter contract forbids it).
"""
from celery import current_app
from django.db import transaction


def enqueue(task_name: str, *args, queue: str | None = None) -> None:
    """Send the registered task `task_name` now, to `queue` if given (eager mode, when configured,
    runs it in place)."""
    app = current_app._get_current_object()
    if task_name not in app.tasks:
        app.loader.import_default_modules()  # autodiscovers every app's tasks.py
    app.tasks[task_name].apply_async(args=args, **({"queue": queue} if queue else {}))


def enqueue_on_commit(task_name: str, *args) -> None:
    """Send the task once the current transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: enqueue(task_name, *args))
