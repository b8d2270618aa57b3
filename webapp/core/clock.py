"""The one place the app reads the time, so tests can move it (leases, time-on-task)."""
import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_override: dt.datetime | None = None


def now() -> dt.datetime:
    return _override if _override is not None else timezone.now()


@contextlib.contextmanager
def frozen_at(moment: dt.datetime) -> Iterator[None]:
    """Make now() return `moment` inside the block (tests only)."""
    global _override
    previous, _override = _override, moment
    try:
        yield
    finally:
        _override = previous
