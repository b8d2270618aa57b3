import hashlib

from django.conf import settings
from django.db import models

from webapp.core.models import AppendOnlyModel, AppendOnlyQuerySet
from webapp.projects.models import Project


def body_sha256(body_md: str) -> str:
    return hashlib.sha256(body_md.encode("utf-8")).hexdigest()


class GuidelineVersionQuerySet(AppendOnlyQuerySet):
    def current_for(self, project) -> "GuidelineVersion | None":
        return self.filter(project=project).order_by("-number").first()


class GuidelineVersion(AppendOnlyModel):
    change_refused = "a published guideline version is immutable; publish a new version instead"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="guideline_versions")
    number = models.PositiveIntegerField()
    body_md = models.TextField()
    sha256 = models.CharField(max_length=64)
    change_note = models.CharField(max_length=500, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()

    objects = GuidelineVersionQuerySet.as_manager()

    class Meta:
        ordering = ["project", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="guideline_version_unique")]

    def __str__(self):
        return f"{self.project.slug} guideline v{self.number}"

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.sha256 = body_sha256(self.body_md)
        super().save(*args, **kwargs)


class Acknowledgement(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="acknowledgements")
    version = models.ForeignKey(GuidelineVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="acknowledgement_unique")]

    def __str__(self):
        return f"{self.user} acknowledged {self.version}"


class Quiz(models.Model):
    """Known-answer comparisons a rater must get right before real tasks under `version`."""

    version = models.OneToOneField(GuidelineVersion, on_delete=models.PROTECT, related_name="quiz")
    threshold = models.FloatField(help_text="fraction of items to get right, 0–1")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(threshold__gt=0, threshold__lte=1), name="quiz_threshold_range")]
        verbose_name_plural = "quizzes"

    def __str__(self):
        return f"quiz for {self.version}"


class QuizItem(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="items")
    comparison = models.ForeignKey("comparisons.Comparison", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["quiz", "comparison"], name="quiz_item_unique")]

    def __str__(self):
        return f"{self.quiz} item {self.position}"


class QuizAttempt(AppendOnlyModel):
    change_refused = "quiz attempts are a record: they are never changed"

    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quiz_attempts")
    answers = models.JSONField(help_text="[{comparison_id, displayed, choice, gold, correct}]")
    score = models.FloatField()
    passed = models.BooleanField()
    submitted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["quiz", "user", "passed"])]

    def __str__(self):
        return f"{self.user} {self.score:.0%} on {self.quiz}"
