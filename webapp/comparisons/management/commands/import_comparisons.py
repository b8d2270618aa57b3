from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.comparisons.imports import import_file
from prefkit.formats import ImportFormatError
from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.projects.commands import get_project


class Command(BaseCommand):
    help = ("Import comparisons from a JSON Lines file (optionally gzipped): the workbench schema, "
            "HH-RLHF chosen/rejected transcripts or LLMFAO pairs. All or nothing (the error lists every "
            "invalid line), unless --skip-invalid; re-importing adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--as-user", help="username recorded as the importer")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="import the valid lines; list the rejected ones (line, field, reason) on the batch")

    def handle(self, *args, **opts):
        project = get_project(opts["project"])
        path = opts["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with domain_errors_as_command_errors():
            try:
                batch = import_file(project=project, path=path, file_name=path.name, actor=get_user(opts["as_user"]),
                                    skip_invalid=opts["skip_invalid"])
            except ImportFormatError as error:
                hint = "; --skip-invalid imports the valid lines" if error.problem_count else ""
                separator = "\n" if error.problem_count > 1 else " "
                raise CommandError(f"{error}{separator}(nothing was imported{hint})") from None
            except OSError as error:
                raise CommandError(f"{path}: {error.strerror}") from None
        self.stdout.write(
            f"imported {path.name} ({batch.format}): {batch.read_count} read, {batch.created_count} new comparisons, "
            f"{batch.existing_count} already present, {batch.duplicate_count} repeated in the file, "
            f"{batch.rejected_count} rejected, {batch.empty_turn_count} with an empty turn; "
            f"batch #{batch.pk} sha256 {batch.sha256}"
        )
        for problem in batch.rejects[:20]:
            self.stdout.write(f"  rejected line {problem['line']}"
                              + (f": field '{problem['field']}'" if problem["field"] else "") + f": {problem['reason']}")
        if batch.rejected_count > 20:
            self.stdout.write(f"  … {batch.rejected_count - 20} more: see the batch page or GET /api/v1/imports/{batch.pk}")
