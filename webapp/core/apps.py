from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "webapp.core"
    label = "core"

    def ready(self):
        # Make the configured Celery app the current one, so shared tasks enqueued by the web
        # process (delay_on_commit) go to the configured broker rather than Celery's default app.
        import webapp.celery  # noqa: F401
