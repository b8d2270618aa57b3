import random

from django.conf import settings
from django.db import models

from webapp.core.models import AppendOnlyModel
from webapp.guidelines.models import GuidelineVersion
from webapp.projects.models import Project


class ImportBatch(models.Model):
    """One import of one file. Comparisons point here so any row traces back to its file."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="import_batches")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    # The batch's lifecycle (queued, running, retried, failed, cancelled) is its job's: one state
    # machine for every long task (webapp/runs). None for a synchronous import (manage.py), whose
    # batch only exists once it has succeeded.
    job = models.OneToOneField("runs.Job", null=True, blank=True, on_delete=models.PROTECT, related_name="import_batch")
    format = models.CharField(max_length=20, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    # The uploaded bytes wait here for the worker, then are cleared (the sha256 stays).
    upload = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.file_name} → {self.project.slug} ({self.status})"

    # Read from the job, named as before so pages and the API keep their words.
    _STATUS_OF_JOB = {"queued": Status.PENDING, "running": Status.RUNNING, "succeeded": Status.DONE,
                      "failed": Status.FAILED, "cancelled": Status.FAILED}

    @property
    def status(self) -> str:
        return self.Status.DONE if self.job is None else self._STATUS_OF_JOB[self.job.state]

    @property
    def started_at(self):
        return self.requested_at if self.job is None else self.job.started_at

    @property
    def finished_at(self):
        return self.requested_at if self.job is None else self.job.finished_at

    @property
    def error(self) -> str:
        if self.job is None or self.job.state not in ("failed", "cancelled"):
            return ""
        return self.job.error or "cancelled"

    @property
    def attempts(self) -> int:
        return 1 if self.job is None else self.job.attempts


class Prompt(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="prompts")
    messages = models.JSONField(help_text="[{role, content}], ending with a user turn")
    messages_html = models.JSONField(help_text="[{role, html}]: sanitized once at import")
    content_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "content_hash"], name="prompt_unique_content")]

    def __str__(self):
        return f"prompt {self.pk}"


class Response(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="responses")
    text = models.TextField()
    html = models.TextField(help_text="sanitized markdown rendering, made once at import")
    model_name = models.CharField(max_length=200, blank=True)
    generation = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prompt", "content_hash"], name="response_unique_content")]

    def __str__(self):
        return f"response {self.pk} ({self.model_name or 'unknown model'})"


class Comparison(models.Model):
    class Gold(models.TextChoices):
        NONE = "", "none"
        A = "a", "A"
        B = "b", "B"
        TIE = "tie", "tie"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="comparisons")
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="comparisons")
    response_a = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="+")
    response_b = models.ForeignKey(Response, on_delete=models.PROTECT, related_name="+")
    gold = models.CharField(max_length=3, choices=Gold.choices, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    content_hash = models.CharField(max_length=64)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="comparisons")
    # Slots in use: submitted judgments plus live leases. Never above the project's overlap;
    # only the claim/expire/skip services change it, under the row lock.
    taken = models.PositiveIntegerField(default=0)
    judged = models.PositiveIntegerField(default=0)
    # A re-queue under a newer guideline starts a new round: k fresh judgments, the old ones kept.
    round = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="comparison_unique_content"),
            models.CheckConstraint(condition=models.Q(taken__gte=models.F("judged")), name="comparison_taken_covers_judged"),
        ]
        indexes = [models.Index(fields=["project", "-taken", "id"], name="comparison_serving_order")]

    def __str__(self):
        return f"comparison {self.pk}"


class Assignment(models.Model):
    class Status(models.TextChoices):
        LEASED = "leased"
        SUBMITTED = "submitted"
        SKIPPED = "skipped"
        EXPIRED = "expired"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    comparison = models.ForeignKey(Comparison, on_delete=models.PROTECT, related_name="assignments")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LEASED)
    round = models.PositiveIntegerField(default=1)
    # The version current and acknowledged when the task was served: the judgment is pinned to it.
    guideline_version = models.ForeignKey(GuidelineVersion, on_delete=models.PROTECT, related_name="+")
    seed = models.BigIntegerField(help_text="decides the left/right order, recorded for reproducibility")
    served_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # No rater ever gets the same comparison twice (within a round; see Comparison.round).
            models.UniqueConstraint(fields=["comparison", "rater", "round"], name="assignment_once_per_rater_round"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], condition=models.Q(status="leased"), name="assignment_live_leases"),
            models.Index(fields=["rater", "project", "status"], name="assignment_rater_project"),
        ]

    def __str__(self):
        return f"assignment {self.pk} ({self.status})"

    @property
    def left_is_a(self) -> bool:
        return left_is_a_from_seed(self.seed)

    @property
    def display_order(self) -> str:
        return "AB" if self.left_is_a else "BA"

    def is_live(self, now) -> bool:
        return self.status == self.Status.LEASED and self.expires_at > now


def left_is_a_from_seed(seed: int) -> bool:
    return random.Random(seed).random() < 0.5


class Judgment(AppendOnlyModel):
    """Append-only. A correction is a new row whose `supersedes` points at the old one."""

    change_refused = "judgments are append-only; submit a correction instead"

    class Choice(models.TextChoices):
        A = "a"
        B = "b"
        TIE = "tie"
        BOTH_BAD = "both_bad"

    class Displayed(models.TextChoices):
        LEFT = "left"
        RIGHT = "right"
        TIE = "tie"
        BOTH_BAD = "both_bad"

    class Flag(models.TextChoices):
        UNSAFE = "unsafe", "Unsafe content"
        CANNOT_JUDGE = "cannot_judge", "Cannot judge"

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="judgments")
    comparison = models.ForeignKey(Comparison, on_delete=models.PROTECT, related_name="judgments")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments")
    guideline_version = models.ForeignKey(GuidelineVersion, on_delete=models.PROTECT, related_name="judgments")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    choice_displayed = models.CharField(max_length=8, choices=Displayed.choices)
    display_order = models.CharField(max_length=2, help_text="AB: A was shown on the left")
    strength = models.PositiveSmallIntegerField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)
    served_at = models.DateTimeField()
    submitted_at = models.DateTimeField()
    active_ms = models.PositiveIntegerField(null=True, blank=True, help_text="client-reported time on task")
    idempotency_key = models.CharField(max_length=100)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rater", "idempotency_key"], name="judgment_idempotency"),
        ]

    def __str__(self):
        return f"judgment {self.pk} ({self.choice})"
