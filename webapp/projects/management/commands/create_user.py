import os

from django.core.management.base import BaseCommand

from webapp.accounts.models import Role
from webapp.accounts.services import token_create, user_create
from webapp.core.commands import domain_errors_as_command_errors
from webapp.projects.commands import get_project
from webapp.projects.services import membership_add


class Command(BaseCommand):
    help = "Create a user with a role; --token prints only an API token on stdout."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--project", action="append", default=[], help="project slug to join (repeatable)")
        parser.add_argument("--password", help="log-in password (default: $WB_PASSWORD, else no browser log-in)")
        parser.add_argument("--demo-password", action="store_true",
                            help="skip the password validators (demo and test set-ups only; the username is still checked)")
        parser.add_argument("--email", default="")
        parser.add_argument("--token", action="store_true", help="create an API token and print only it")

    def handle(self, *args, **opts):
        projects = [get_project(slug) for slug in opts["project"]]
        with domain_errors_as_command_errors():
            user = user_create(username=opts["username"], role=opts["role"], email=opts["email"],
                               password=opts["password"] or os.environ.get("WB_PASSWORD"),
                               demo_password=opts["demo_password"])
            for project in projects:
                membership_add(project=project, user=user, actor=None)
            if opts["token"]:
                self.stdout.write(token_create(user=user))
                return
        self.stdout.write(f"created {opts['role']} {user.get_username()} ({user.profile.pseudonym})")
