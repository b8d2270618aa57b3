from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webapp.core.commands import domain_errors_as_command_errors, get_user
from webapp.projects.commands import get_project
from webapp.guidelines.services import guideline_publish


class Command(BaseCommand):
    help = "Publish FILE.md as the next guideline version of a project."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--note", required=True, help="what changed in this version")
        parser.add_argument("--author", help="username of the author")

    def handle(self, *args, **opts):
        project = get_project(opts["slug"])
        try:
            body = opts["file"].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{opts['file']}: {error}") from None
        with domain_errors_as_command_errors():
            version = guideline_publish(project=project, body_md=body, change_note=opts["note"],
                                        author=get_user(opts["author"]))
        self.stdout.write(f"published {project.slug} guideline v{version.number} sha256 {version.sha256}")
