from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.labelstudio.services import labelstudio_export
from webapp.projects.models import Project


class Command(BaseCommand):
    help = "Write a project's comparisons and current judgments as a Label Studio JSON file (tasks with annotations)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--output", required=True, help="the JSON file to write")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"no project with slug '{options['project']}'")
        out = Path(options["output"])
        if out.exists():
            raise CommandError(f"{out}: exists; choose a new file name")
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such folder")
        counts = labelstudio_export(project=project, out_path=out)
        self.stdout.write(f"{out}: {counts['tasks']} tasks, {counts['annotations']} annotations"
                          + (f" ({counts['both_bad_left_out']} 'both bad' judgments left out: Label Studio's "
                             "pairwise control has no such answer)" if counts["both_bad_left_out"] else ""))
