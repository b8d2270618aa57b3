"""Shared bits for management commands: domain errors become CommandError (non-zero exit)."""
import contextlib

from django.core.management.base import CommandError

from webapp.core.errors import DomainError


@contextlib.contextmanager
def domain_errors_as_command_errors():
    try:
        yield
    except DomainError as error:
        raise CommandError(error.message) from None


def get_user(username: str | None):
    if not username:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user {username!r}")
    return user
