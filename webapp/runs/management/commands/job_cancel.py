from django.core.management.base import BaseCommand, CommandError

from webapp.core.errors import DomainError
from webapp.runs.services import job_cancel


class Command(BaseCommand):
    help = "Cancel a queued or running job; a running one stops at its next progress tick and leaves no output."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, job_id, **options):
        try:
            job = job_cancel(job_id=job_id, actor=None)
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"job {job.pk} ({job.kind}) cancelled")
