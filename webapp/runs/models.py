"""Jobs: the one record and state machine every long-running task uses (imports, exports, and later
training, scoring, diagnostics, Label Studio sync). Transitions live in services.py."""
import datetime as dt

from django.conf import settings
from django.db import models

from webapp.projects.models import Project


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    kind = models.CharField(max_length=40, help_text="what runs it (webapp/runs/kinds.py): import, export, ...")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=200, blank=True)
    # A running job's worker touches this every few seconds; the sweeper re-queues a job whose
    # heartbeat went stale (its worker died) and fails it after max_attempts.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="the kind's summary, e.g. an export's manifest")
    requested_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(help_text="when a message for it was last sent to the broker")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat"),
            models.Index(fields=["project", "-requested_at"], name="job_project_recent"),
        ]

    def __str__(self):
        return f"{self.kind} job {self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    def elapsed(self, now: dt.datetime) -> dt.timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or now) - self.started_at

    def remaining(self, now: dt.datetime) -> dt.timedelta | None:
        """A linear estimate from the progress so far; None when there is nothing to go on."""
        elapsed = self.elapsed(now)
        if self.state != self.State.RUNNING or elapsed is None or not self.progress_total or not self.progress_done:
            return None
        left = max(self.progress_total - self.progress_done, 0)
        return elapsed * (left / self.progress_done)

    @property
    def fraction(self) -> float | None:
        if self.state == self.State.SUCCEEDED:
            return 1.0
        if not self.progress_total:
            return None
        return min(self.progress_done / self.progress_total, 1.0)


class Artifact(models.Model):
    """A file a job produced (written complete, then renamed into place)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=300, help_text="path relative to the job's output folder")
    path = models.CharField(max_length=1000, help_text="absolute path on the server")
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    rows = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["job", "name"]
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="artifact_unique_name")]

    def __str__(self):
        return f"{self.name} ({self.size_bytes} bytes)"
