from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.comparisons.imports import import_file
from prefkit.formats import ImportFormatError
from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.projects.commands import get_project


class Command(BaseCommand):
    help = ("Import comparisons from a JSON Lines file (optionally gzipped): the workbench schema, "
            "HH-RLHF chosen/rejected transcripts or LLMFAO pairs. All or nothing; re-importing adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--as-user", help="username recorded as the importer")

    def handle(self, *args, **opts):
        project = get_project(opts["project"])
        path = opts["path"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        with domain_errors_as_command_errors():
            try:
                batch = import_file(project=project, data=data, file_name=path.name, actor=get_user(opts["as_user"]))
            except ImportFormatError as error:
                raise CommandError(f"{error} (nothing was imported)") from None
        self.stdout.write(
            f"imported {path.name} ({batch.format}): {batch.created_count} new comparisons, "
            f"{batch.existing_count} already present; batch #{batch.pk} sha256 {batch.sha256}"
        )
