from django.core.management.base import BaseCommand, CommandError

from webapp.audit.services import audit_verify


def _checkpoint(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError(f"--checkpoint {value!r}: expected SEQ:SHA256 as printed by an earlier run")
    return int(seq), digest


class Command(BaseCommand):
    help = ("Walk the audit hash chain and report the first broken link (non-zero exit if any). "
            "Prints a checkpoint to keep outside the database; pass it back with --checkpoint to also "
            "catch a truncated or wholly rewritten chain.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", metavar="SEQ:SHA256", help="a checkpoint printed by an earlier run")

    def handle(self, *args, **opts):
        report = audit_verify(checkpoint=_checkpoint(opts["checkpoint"]) if opts["checkpoint"] else None)
        if not report.ok:
            raise CommandError(f"audit chain broken at event #{report.broken_seq}: {report.problem} "
                               f"({report.checked} events verified before it)")
        self.stdout.write(f"audit chain intact: {report.checked} events verified")
        self.stdout.write(f"checkpoint: {report.checked}:{report.head_hash}")
