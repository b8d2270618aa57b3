from django.core.management.base import BaseCommand, CommandError

from prefkit.labelstudio import LabelStudioError
from webapp.labelstudio.management.commands.labelstudio_import import add_mapping_options, mapping_options
from webapp.labelstudio.services import labelstudio_pull
from webapp.projects.models import Project


class Command(BaseCommand):
    help = "Pull a live Label Studio pairwise project's annotations as judgments made elsewhere (only what is new)."

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="Label Studio base URL, e.g. http://127.0.0.1:8080")
        parser.add_argument("--token", required=True, help="a Label Studio API token (never printed or stored)")
        parser.add_argument("--project", required=True, type=int, help="the Label Studio project id")
        parser.add_argument("--into", required=True, metavar="SLUG", help="the workbench project")
        add_mapping_options(parser)

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["into"]).first()
        if project is None:
            raise CommandError(f"no project with slug '{options['into']}'")
        try:
            result = labelstudio_pull(project=project, url=options["url"], token=options["token"],
                                      ls_project_id=options["project"], actor=None, options=mapping_options(options))
        except LabelStudioError as error:
            raise CommandError(str(error)) from None
        for repeat in result.repeats:
            self.stdout.write(f"note: {repeat}")
        self.stdout.write(f"Label Studio project {options['project']}: {result.annotations} annotations, "
                          f"{result.created} judgments added, {result.already_present} already present, "
                          f"{result.cancelled} skipped (cancelled)")
