from django.core.management.base import BaseCommand, CommandError

from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.projects.commands import get_project
from webapp.guidelines.models import GuidelineVersion
from webapp.comparisons.quiz import quiz_set


class Command(BaseCommand):
    help = "Attach an onboarding quiz (known-answer comparisons) to a project's current guideline version."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--comparisons", required=True, help="comparison ids with a gold answer, comma-separated")
        parser.add_argument("--threshold", type=float, default=80, help="percent to get right (default 80)")
        parser.add_argument("--as-user", help="username recorded as the author")

    def handle(self, *args, **opts):
        project = get_project(opts["slug"])
        version = GuidelineVersion.objects.current_for(project)
        if version is None:
            raise CommandError(f"{project.slug} has no published guideline")
        try:
            ids = [int(part) for part in opts["comparisons"].replace(",", " ").split()]
        except ValueError:
            raise CommandError("--comparisons takes numbers separated by commas") from None
        with domain_errors_as_command_errors():
            quiz = quiz_set(version=version, comparison_ids=ids, threshold=opts["threshold"] / 100,
                            actor=get_user(opts["as_user"]))
        self.stdout.write(f"quiz of {quiz.items.count()} comparisons set for {project.slug} guideline v{version.number}")
