"""Job kinds: what runs a job, on which Celery queue, how often it may be tried.

Apps register their kinds in AppConfig.ready(), so `runs` depends on no domain app.
"""
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    name: str
    # run(job, ctx) does the work, calling ctx.progress(...) now and then. It returns a JobOutcome,
    # or None when it has already finished the job itself (inside its own transaction).
    run: Callable
    # Remove whatever a cancelled, failed or superseded attempt left behind.
    cleanup: Callable | None = None
    queue: str | None = None  # None: the default queue (CELERY_TASK_DEFAULT_QUEUE)
    max_attempts: int | None = None  # None: settings.WB_JOB_MAX_ATTEMPTS
    label: str = ""
    # Audit actions are "<audit_prefix>.<event>" (e.g. export.succeeded); "job.<event>" by default.
    audit_prefix: str = "job"


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    _KINDS[kind.name] = kind


def get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r} is registered (known: {', '.join(sorted(_KINDS))})") from None


def audit_prefix_for(name: str) -> str:
    kind = _KINDS.get(name)
    return kind.audit_prefix if kind else "job"


def queue_for(name: str) -> str | None:
    kind = _KINDS.get(name)
    return kind.queue if kind else None
