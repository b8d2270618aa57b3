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

    class Kind(models.TextChoices):
        COMPARISONS = "comparisons"
        JUDGMENTS = "judgments"

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
    # What the file holds: comparisons (import_comparisons) or judgments made elsewhere (import_judgments).
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.COMPARISONS)
    # --skip-invalid: import the valid lines and keep the rejected ones' (line, field, reason) in `rejects`.
    skip_invalid = models.BooleanField(default=False)
    read_count = models.PositiveIntegerField(default=0, help_text="records read (non-blank lines)")
    rejected_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0, help_text="records repeating an earlier line of the file")
    empty_turn_count = models.PositiveIntegerField(default=0, help_text="records with an empty assistant turn, kept")
    rejects = models.JSONField(default=list, blank=True, help_text="[{line, field, reason}], capped; rejected_count is the total")
    notes = models.JSONField(default=list, blank=True,
                             help_text="[{line, field, reason}]: valid lines left out, e.g. an earlier row of the same rater")
    source = models.CharField(max_length=200, blank=True, help_text="judgments: where they were made (rater scope)")
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
    # A consistency re-serve (Project.consistency_fraction): the rater's own earlier judged assignment
    # of this comparison, served again with the sides swapped. It takes no overlap slot (taken,
    # judged), and one original is re-served at most once (the one-to-one says so in the database).
    repeat_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="repeat")

    class Meta:
        constraints = [
            # No rater ever gets the same comparison twice (within a round; see Comparison.round),
            # but for a consistency re-serve of it (repeat_of). The serving query names the same
            # condition, so it can use this partial index.
            models.UniqueConstraint(fields=["comparison", "rater", "round"], condition=models.Q(repeat_of__isnull=True),
                                    name="assignment_once_per_rater_round"),
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

    @property
    def is_repeat(self) -> bool:
        return self.repeat_of_id is not None


def left_is_a_from_seed(seed: int) -> bool:
    return random.Random(seed).random() < 0.5


class ExternalRater(models.Model):
    """Someone who judged elsewhere (a crowd worker, a Label Studio annotator): a pseudonymous
    identity scoped to a project and an origin. Not a login: it has no user, can never sign in
    and is never served a task."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="external_raters")
    # "import" for files, or the external tool's source name (e.g. "label-studio:<url>#<project>").
    scope = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, help_text="the id the other tool or file gave this person")
    # The one pseudonym rule, of the identity "external:<project id>:<scope>:<external id>".
    pseudonym = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "scope", "external_id"], name="external_rater_unique_id"),
        ]

    def __str__(self):
        return f"external rater {self.pseudonym} ({self.scope})"


class Judgment(AppendOnlyModel):
    """Append-only. A correction is a new row whose `supersedes` points at the old one.

    `origin` says where it was made. Made here: it has its assignment, rater account and the
    guideline version it was served under. Made elsewhere (imported from a file, or pulled from an
    external tool): no assignment, no lease, an ExternalRater, and a guideline version only when
    it is known. Check constraints hold the two shapes apart.
    """

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

    class Origin(models.TextChoices):
        HERE = "here", "made here"
        IMPORT = "import", "imported from a file"
        EXTERNAL = "external", "pulled from an external tool"

    # db_default: the rater hot path inserts with hand-written SQL that does not name these columns.
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.HERE, db_default=Origin.HERE)
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="judgments")
    comparison = models.ForeignKey(Comparison, on_delete=models.PROTECT, related_name="judgments")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="judgments")
    external_rater = models.ForeignKey(ExternalRater, null=True, blank=True, on_delete=models.PROTECT, related_name="judgments")
    # Null when made elsewhere under a guideline we do not know.
    guideline_version = models.ForeignKey(GuidelineVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="judgments")
    import_batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="judgments")
    source = models.CharField(max_length=200, blank=True, default="", db_default="",
                              help_text="external tool or file the judgment came from")
    external = models.JSONField(null=True, blank=True,
                                help_text="provenance from elsewhere: row/annotation id, source url, lead time, times")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    # "" when made elsewhere and the sides shown are unknown.
    choice_displayed = models.CharField(max_length=8, choices=Displayed.choices, blank=True)
    display_order = models.CharField(max_length=2, blank=True, help_text="AB: A was shown on the left; empty: unknown")
    strength = models.PositiveSmallIntegerField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(help_text="made elsewhere: the file's timestamp, else the import time")
    active_ms = models.PositiveIntegerField(null=True, blank=True, help_text="client-reported time on task")
    # Made here: the client's Idempotency-Key. Made elsewhere: the row's key in its source (dedupe on re-import).
    idempotency_key = models.CharField(max_length=100)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by")
    # Made on a consistency re-serve (Assignment.repeat_of): kept out of exports, agreement and
    # majority figures by default, compared with the rater's first judgment of the pair instead.
    repeat = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rater", "idempotency_key"], name="judgment_idempotency"),
            models.CheckConstraint(
                name="judgment_origin_shape",
                condition=(
                    models.Q(origin="here", assignment__isnull=False, rater__isnull=False,
                             guideline_version__isnull=False, served_at__isnull=False, external_rater__isnull=True)
                    | (models.Q(origin__in=["import", "external"], external_rater__isnull=False,
                                rater__isnull=True, assignment__isnull=True)
                       & (models.Q(origin="external") | models.Q(import_batch__isnull=False)))
                ),
            ),
            models.CheckConstraint(name="judgment_repeat_made_here", condition=models.Q(repeat=False) | models.Q(origin="here")),
        ]
        indexes = [models.Index(fields=["external_rater", "comparison"], name="judgment_external_rater")]

    def __str__(self):
        return f"judgment {self.pk} ({self.choice})"

    @property
    def made_here(self) -> bool:
        return self.origin == self.Origin.HERE
