from django.core.management.base import BaseCommand, CommandError

from webapp.audit.services import audit_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain and report the first broken link (non-zero exit if any)."

    def handle(self, *args, **opts):
        report = audit_verify()
        if not report.ok:
            raise CommandError(f"audit chain broken at event #{report.broken_seq}: {report.problem} "
                               f"({report.checked} events verified before it)")
        self.stdout.write(f"audit chain intact: {report.checked} events verified")
