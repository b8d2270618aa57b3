"""Shared bits for management commands: domain errors become CommandError (non-zero exit)."""
import contextlib
import time

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


class TerminalProgress:
    """A one-line terminal progress bar (redrawn at most ten times a second), for commands that run
    a job in-process: `update` has the shape of a job's progress callback."""

    def __init__(self, stream, unit: str, width: int = 30):
        self.stream, self.unit, self.width, self.last, self.drawn = stream, unit, width, 0.0, False

    def update(self, done: int, total: int | None, message: str) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and (total is None or done < total):
            return
        self.last = now
        if total:
            filled = int(self.width * min(done / total, 1.0))
            text = f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {self.unit}"
        else:
            text = f"{done} {self.unit}"
        self.stream.write(f"\r{text} {message[:50]:<50}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
