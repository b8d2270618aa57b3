from django.core.management.base import BaseCommand, CommandError

from prefkit.labelstudio import LabelStudioError
from webapp.labelstudio.services import labelstudio_push
from webapp.projects.models import Project


class Command(BaseCommand):
    help = ("Create a Label Studio project from a workbench project: pairwise config with strength choices, the "
            "current guideline as instructions, one task per comparison with a recorded random side swap.")

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="Label Studio base URL")
        parser.add_argument("--token", required=True, help="a Label Studio API token (never printed or stored)")
        parser.add_argument("--from", dest="source", required=True, metavar="SLUG", help="the workbench project")
        parser.add_argument("--title", default="", help="Label Studio project title")
        parser.add_argument("--seed", type=int, default=None, help="seed of the side swaps (default: random)")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["source"]).first()
        if project is None:
            raise CommandError(f"no project with slug '{options['source']}'")
        try:
            push = labelstudio_push(project=project, url=options["url"], token=options["token"], actor=None,
                                    title=options["title"], seed=options["seed"])
        except LabelStudioError as error:
            raise CommandError(str(error)) from None
        version = push.guideline_version
        self.stdout.write(f"pushed {len(push.tasks)} comparisons to Label Studio project {push.ls_project_id} at "
                          f"{push.url} (guideline {'v%d' % version.number if version else 'none published'}); "
                          f"pull with --project {push.ls_project_id}")
