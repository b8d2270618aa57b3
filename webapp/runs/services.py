"""Job state changes: one compare-and-set write per transition, each with its audit event.

queued -> running -> succeeded | failed | cancelled; a running job whose heartbeat went stale is
re-queued (at most max_attempts tries in all), then failed with the reason.
"""
import contextlib
import datetime as dt
import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from webapp.audit.services import audit_record
from webapp.core import clock
from webapp.core.errors import InvalidTransition, NotFound
from webapp.core.queue import enqueue
from webapp.runs import kinds
from webapp.runs.models import Artifact, Job

log = logging.getLogger(__name__)
State = Job.State


class JobCancelled(Exception):
    """Raised at a progress tick when the job is no longer this attempt's to run (cancelled, or
    re-queued by the sweeper): the runner stops and leaves no output."""


@dataclass
class ArtifactFile:
    name: str
    path: Path
    rows: int | None = None
    size_bytes: int | None = None  # measured by job_run before the state change, outside its transaction
    sha256: str | None = None

    def measure(self) -> None:
        if self.sha256 is None:
            self.size_bytes, self.sha256 = self.path.stat().st_size, _file_sha256(self.path)


@dataclass
class JobOutcome:
    artifacts: list[ArtifactFile] = field(default_factory=list)
    result: dict = field(default_factory=dict)


def written_by(job: Job, record_file: Path, key: str) -> bool:
    """Whether a JSON record a job writes with its output (an export's manifest.json, a model's
    metrics.json) names `job` under provenance[key]: how a job tells its own earlier output in a
    folder the lead chose from files that arrived there by other hands."""
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and (record.get("provenance") or {}).get(key) == job.pk


def _audit(job: Job, event: str, actor=None, **payload) -> None:
    action = f"{kinds.audit_prefix_for(job.kind)}.{event}"
    audit_record(actor=actor, action=action, obj=job, project_id=job.project_id,
                 payload={"kind": job.kind, **payload})


@transaction.atomic
def job_create(*, kind: str, project, actor, params: dict, enqueue: bool = True) -> Job:
    """Record a queued job and send it to its kind's queue once the transaction commits
    (enqueue=False: the caller runs it in-process with job_run)."""
    spec = kinds.get(kind)
    now = clock.now()
    job = Job.objects.create(
        kind=kind, project=project, requested_by=actor if getattr(actor, "pk", None) else None, params=params,
        max_attempts=spec.max_attempts or settings.WB_JOB_MAX_ATTEMPTS, requested_at=now, enqueued_at=now,
    )
    _audit(job, "requested", actor, params=params)
    if enqueue:
        transaction.on_commit(lambda: _send(job.pk, kind))
    return job


JOB_RUN_TASK = "webapp.runs.tasks.job_run"  # defined in tasks.py, which imports this module


def _send(job_id: int, kind: str) -> None:
    enqueue(JOB_RUN_TASK, job_id, queue=kinds.queue_for(kind))


@transaction.atomic
def job_start(*, job_id: int) -> Job | None:
    """Claim a queued job for this worker (attempt + 1). None if it is not queued: a re-delivered
    message for a job that is running, finished or cancelled does nothing."""
    now = clock.now()
    job = Job.objects.select_for_update().filter(pk=job_id, state=State.QUEUED).first()
    if job is None:
        return None
    job.state, job.attempts, job.started_at, job.heartbeat_at = State.RUNNING, job.attempts + 1, now, now
    job.progress_done, job.progress_message, job.error = 0, "", ""
    job.save(update_fields=["state", "attempts", "started_at", "heartbeat_at", "progress_done", "progress_message",
                            "error"])
    _audit(job, "started", attempt=job.attempts)
    return job


def job_heartbeat(*, job_id: int, attempt: int, done: int | None = None, total: int | None = None,
                  message: str | None = None) -> None:
    """Record progress and that the worker lives. Raise JobCancelled if the job is no longer this
    attempt's (cancelled, re-queued or failed meanwhile). Not audited: it is not a transition."""
    values = {"heartbeat_at": clock.now()}
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    if message is not None:
        values["progress_message"] = message[:200]
    if not Job.objects.filter(pk=job_id, state=State.RUNNING, attempts=attempt).update(**values):
        raise JobCancelled(f"job {job_id} attempt {attempt} is no longer running")


@transaction.atomic
def job_succeed(*, job_id: int, attempt: int, outcome: JobOutcome) -> bool:
    """Finish a running attempt with its artifacts. False (nothing written) if the job was
    cancelled or re-queued meanwhile: the caller then removes what it wrote."""
    for artifact in outcome.artifacts:
        artifact.measure()
    now = clock.now()
    if not Job.objects.filter(pk=job_id, state=State.RUNNING, attempts=attempt).update(
        state=State.SUCCEEDED, finished_at=now, heartbeat_at=now, result=outcome.result,
        progress_message="done",
    ):
        return False
    job = Job.objects.get(pk=job_id)
    Job.objects.filter(pk=job_id, progress_total__isnull=False).update(progress_done=job.progress_total or 0)
    Artifact.objects.bulk_create([
        Artifact(job=job, name=a.name, path=str(a.path), size_bytes=a.size_bytes, sha256=a.sha256,
                 rows=a.rows, created_at=now)
        for a in outcome.artifacts
    ])
    _audit(job, "succeeded", attempt=attempt, artifacts=[a.name for a in outcome.artifacts])
    return True


@transaction.atomic
def job_fail(*, job_id: int, attempt: int, error: str) -> bool:
    """Fail a running attempt with the reason. False if the job had moved on already."""
    if not Job.objects.filter(pk=job_id, state=State.RUNNING, attempts=attempt).update(
        state=State.FAILED, finished_at=clock.now(), error=error[:10_000],
    ):
        return False
    _audit(Job.objects.get(pk=job_id), "failed", attempt=attempt, error=error[:2000])
    return True


@transaction.atomic
def job_cancel(*, job_id: int, actor) -> Job:
    """Cancel a queued or running job. A running one stops at its next progress tick and removes
    its output. Raise InvalidTransition for a finished job."""
    job = Job.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.is_finished:
        raise InvalidTransition(f"job {job_id} has already {job.state}; only queued or running jobs can be cancelled")
    was = job.state
    job.state, job.finished_at = State.CANCELLED, clock.now()
    job.save(update_fields=["state", "finished_at"])
    _audit(job, "cancelled", actor, was=was)
    return job


@transaction.atomic
def job_requeue_stale(*, job_id: int, stale_before: dt.datetime) -> str | None:
    """Re-queue a running job whose heartbeat is older than `stale_before` (its worker died), or
    fail it with the reason when it has had all its attempts. Return the new state, or None if
    the job was not stale after all."""
    job = Job.objects.select_for_update().filter(pk=job_id, state=State.RUNNING,
                                                 heartbeat_at__lt=stale_before).first()
    if job is None:
        return None
    silent = int((clock.now() - job.heartbeat_at).total_seconds())
    reason = f"the worker stopped responding (no heartbeat for {silent} s) during attempt {job.attempts}"
    if job.attempts >= job.max_attempts:
        job.state, job.finished_at = State.FAILED, clock.now()
        job.error = f"{reason}; gave up after {job.attempts} attempt{'s' if job.attempts != 1 else ''}"
        job.save(update_fields=["state", "finished_at", "error"])
        _audit(job, "failed", attempt=job.attempts, error=job.error)
    else:
        job.state, job.enqueued_at, job.error = State.QUEUED, clock.now(), reason
        job.progress_message = f"retrying: {reason}"[:200]
        job.save(update_fields=["state", "enqueued_at", "error", "progress_message"])
        _audit(job, "requeued", attempt=job.attempts, reason=reason)
        transaction.on_commit(lambda: _send(job.pk, job.kind))
    return job.state


def jobs_sweep(*, stale_after_seconds: int, resend_after_seconds: int) -> dict:
    """Find jobs whose worker vanished: re-queue or fail running jobs with a stale heartbeat, and
    re-send queued jobs whose message may have been lost with a killed worker (a duplicate message
    is harmless: job_start claims with compare-and-set)."""
    now = clock.now()
    stale_before = now - dt.timedelta(seconds=stale_after_seconds)
    outcome = {"requeued": 0, "failed": 0, "resent": 0}
    for job_id in Job.objects.filter(state=State.RUNNING, heartbeat_at__lt=stale_before).values_list("pk", flat=True):
        new_state = job_requeue_stale(job_id=job_id, stale_before=stale_before)
        if new_state:
            outcome["requeued" if new_state == State.QUEUED else "failed"] += 1
        if new_state == State.FAILED:
            _cleanup_given_up(job_id)
    forgotten = Job.objects.filter(state=State.QUEUED, enqueued_at__lt=now - dt.timedelta(seconds=resend_after_seconds))
    for job_id, kind in forgotten.values_list("pk", "kind"):
        if Job.objects.filter(pk=job_id, state=State.QUEUED).update(enqueued_at=now):
            _send(job_id, kind)
            outcome["resent"] += 1
    return outcome


def _cleanup_given_up(job_id: int) -> None:
    """A job failed for good by the sweeper: its dead worker never ran the kind's cleanup, so what
    the last attempt left (an export's partial folder, an import's upload) would stay forever.
    After the transition has committed; a cleanup that fails must not stop the sweep."""
    job = Job.objects.get(pk=job_id)
    try:
        _cleanup(kinds.get(job.kind), job)
    except Exception:  # noqa: BLE001 - logged; the job is failed either way
        log.exception("cleanup of job %s, failed by the sweeper, did not finish", job_id)


class JobContext:
    """What a runner gets besides the job: progress reporting that doubles as the cancel check."""

    def __init__(self, job: Job, observer=None):
        self.job = job
        self.attempt = job.attempts
        self._last_tick = 0.0
        self._observer = observer

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Report progress; raise JobCancelled if the job was cancelled. Writes at most ~4 times a second."""
        import time

        if self._observer is not None:
            self._observer(done, total, message)
        moment = time.monotonic()
        if moment - self._last_tick < 0.25 and (total is None or done < total):
            return
        self._last_tick = moment
        job_heartbeat(job_id=self.job.pk, attempt=self.attempt, done=done, total=total, message=message)

    def succeed(self, outcome: JobOutcome) -> None:
        """Finish the job now, inside the runner's own transaction (so its writes and the state
        change commit together). Raise JobCancelled if it was cancelled or re-queued meanwhile."""
        if not job_succeed(job_id=self.job.pk, attempt=self.attempt, outcome=outcome):
            raise JobCancelled(f"job {self.job.pk} was cancelled or re-queued before it finished")


def job_run(*, job_id: int, observer=None) -> Job | None:
    """The worker's side: claim the job, run its kind, record the ending. Idempotent.
    `observer(done, total, message)` sees every progress tick (the command's progress bar)."""
    job = job_start(job_id=job_id)
    if job is None:
        return None
    spec = kinds.get(job.kind)
    ctx = JobContext(job, observer)
    try:
        with _heartbeat_thread(job.pk, ctx.attempt):
            outcome = spec.run(job, ctx)
            for artifact in outcome.artifacts if outcome is not None else ():
                artifact.measure()  # hashing big files must not hold the write transaction
        if outcome is not None and not job_succeed(job_id=job.pk, attempt=ctx.attempt, outcome=outcome):
            _cleanup(spec, job)
    except JobCancelled:
        _cleanup(spec, job)
    except Exception as error:  # noqa: BLE001 - any failure ends the job with its reason
        log.exception("job %s failed", job.pk)
        _cleanup(spec, job)
        job_fail(job_id=job.pk, attempt=ctx.attempt, error=_describe(error))
    return Job.objects.get(pk=job.pk)


def _describe(error: Exception) -> str:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(error, SoftTimeLimitExceeded):
        return f"the job ran past the time limit ({settings.CELERY_TASK_SOFT_TIME_LIMIT} s)"
    return str(error) or type(error).__name__


def _cleanup(spec: kinds.JobKind, job: Job) -> None:
    if spec.cleanup is not None:
        spec.cleanup(job)


@contextlib.contextmanager
def _heartbeat_thread(job_id: int, attempt: int):
    """Touch the heartbeat every WB_JOB_HEARTBEAT_SECONDS while the runner works, ticks or not:
    a stale heartbeat then means the worker process died, not that a step was slow."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(settings.WB_JOB_HEARTBEAT_SECONDS):
                try:
                    job_heartbeat(job_id=job_id, attempt=attempt)
                except JobCancelled:
                    return  # the runner finds out at its next tick
                except Exception:  # noqa: BLE001 - e.g. SQLite busy while the runner holds the write lock
                    log.warning("heartbeat of job %s not written", job_id, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@transaction.atomic
def artifact_download_record(*, artifact: Artifact, actor) -> None:
    """Audit that `actor` downloaded a job's file (exports must say who took the data out)."""
    _audit(artifact.job, "downloaded", actor, file=artifact.name, sha256=artifact.sha256,
           size_bytes=artifact.size_bytes)
