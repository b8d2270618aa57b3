"""The Django project. Importing it starts nothing: the Celery app (webapp.celery) is loaded by
CoreConfig.ready() in Django processes and found by `celery -A webapp` in the worker."""
