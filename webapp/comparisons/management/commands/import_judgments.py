from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from prefkit.formats import ImportFormatError
from webapp.comparisons.judgment_imports import judgments_import_file
from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.projects.commands import get_project


class Command(BaseCommand):
    help = ("Import judgments made elsewhere (CSV or JSON Lines, optionally gzipped) onto comparisons imported "
            "before: a comparison key (id / external_id, comparison_id or content_hash), a rater id, the choice "
            "(A/B/tie/both_bad, or left/right with what was shown on each side), optional strength, time on "
            "task and timestamp. All or nothing unless --skip-invalid; re-importing adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--as-user", help="username recorded as the importer")
        parser.add_argument("--source", default="",
                            help="where the judgments were made (e.g. llmfao-crowd); raters are scoped to it")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="import the valid rows; list the rejected ones (line, field, reason) on the batch")

    def handle(self, *args, **opts):
        project = get_project(opts["project"])
        path = opts["path"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with domain_errors_as_command_errors():
            try:
                batch = judgments_import_file(project=project, path=path, file_name=path.name,
                                              actor=get_user(opts["as_user"]), skip_invalid=opts["skip_invalid"],
                                              source=opts["source"])
            except ImportFormatError as error:
                hint = "; --skip-invalid imports the valid rows" if error.problem_count else ""
                separator = "\n" if error.problem_count > 1 else " "
                raise CommandError(f"{error}{separator}(nothing was imported{hint})") from None
        self.stdout.write(
            f"imported {path.name} ({batch.format}): {batch.read_count} read, {batch.created_count} new judgments, "
            f"{batch.existing_count} already present, {batch.duplicate_count} left out for a later row of the same "
            f"rater and comparison, {batch.rejected_count} rejected; batch #{batch.pk} sha256 {batch.sha256}"
        )
        for kind, problems in (("rejected", batch.rejects), ("left out", batch.notes)):
            for problem in problems[:10]:
                self.stdout.write(f"  {kind} line {problem['line']}"
                                  + (f": field '{problem['field']}'" if problem["field"] else "")
                                  + f": {problem['reason']}")
