"""Helpers for management commands that name a project."""
from django.core.management.base import CommandError

from webapp.projects.models import Project


def get_project(slug: str):
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"no project with slug {slug!r} (create it with: manage.py create_project {slug} --name ...)")
    return project
