from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from prefkit.labelstudio import LabelStudioError, Options
from webapp.labelstudio.services import labelstudio_import_file
from webapp.projects.models import Project


def add_mapping_options(parser):
    defaults = Options()
    parser.add_argument("--prompt-key", default=defaults.prompt_key, help="task data key of the prompt")
    parser.add_argument("--left-key", default=defaults.left_key, help="task data key of the left response")
    parser.add_argument("--right-key", default=defaults.right_key, help="task data key of the right response")
    parser.add_argument("--pairwise-name", default=defaults.pairwise_name, help="name of the Pairwise control")
    parser.add_argument("--strength-name", default=defaults.strength_name,
                        help="name of the Choices control for strength or tie")


def mapping_options(options) -> Options:
    return Options(prompt_key=options["prompt_key"], left_key=options["left_key"], right_key=options["right_key"],
                   pairwise_name=options["pairwise_name"], strength_name=options["strength_name"])


class Command(BaseCommand):
    help = "Import a Label Studio pairwise export (JSON or JSON_MIN) as judgments made elsewhere."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--into", required=True, metavar="SLUG", help="the workbench project")
        add_mapping_options(parser)

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["into"]).first()
        if project is None:
            raise CommandError(f"no project with slug '{options['into']}'")
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read: {error.strerror}") from None
        try:
            result = labelstudio_import_file(project=project, data=data, name=path.name, actor=None,
                                             options=mapping_options(options))
        except LabelStudioError as error:
            raise CommandError(str(error)) from None
        for repeat in result.repeats:
            self.stdout.write(f"note: {repeat}")
        self.stdout.write(
            f"{path.name}: Label Studio {result.format}, {result.tasks} tasks, {result.annotations} annotations: "
            f"{result.created} judgments added, {result.already_present} already present, "
            f"{result.cancelled} skipped (cancelled), {len(result.repeats)} earlier annotations replaced by a later "
            f"one; {result.comparisons_created} new comparisons")
