import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Scale(models.TextChoices):
    BINARY = "binary", "Binary (left or right)"
    BINARY_TIE = "binary_tie", "Binary with tie"
    FOUR_LEVEL = "four_level", "Four-level strength (Llama 2 style)"
    SEVEN_POINT = "seven_point", "Seven-point A-to-B scale"


@dataclass(frozen=True)
class ScaleSpec:
    """What a rater may answer on a scale. Strength is a magnitude, the same whichever side won."""

    allows_tie: bool
    strengths: tuple[tuple[int, str], ...]  # (value, label), weakest first; () means no strength asked

    def as_dict(self) -> dict:
        return {"allows_tie": self.allows_tie, "strengths": [{"value": v, "label": l} for v, l in self.strengths]}


SCALE_SPECS = {
    Scale.BINARY: ScaleSpec(allows_tie=False, strengths=()),
    Scale.BINARY_TIE: ScaleSpec(allows_tie=True, strengths=()),
    Scale.FOUR_LEVEL: ScaleSpec(
        allows_tie=False,
        strengths=((1, "Negligibly better / unsure"), (2, "Slightly better"), (3, "Better"), (4, "Significantly better")),
    ),
    # Seven points: 3 strengths on either side of a tie in the middle.
    Scale.SEVEN_POINT: ScaleSpec(
        allows_tie=True, strengths=((1, "Slightly better"), (2, "Better"), (3, "Much better"))
    ),
}


MAX_CONSISTENCY_FRACTION = 0.2


def validate_finite(value: float) -> None:
    if not math.isfinite(value):
        raise ValidationError("must be a finite number", code="finite")


class Project(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    overlap = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="How many raters judge each comparison.",
    )
    scale = models.CharField(max_length=16, choices=Scale.choices, default=Scale.BINARY_TIE)
    allow_both_bad = models.BooleanField(default=False)
    rationale_required = models.BooleanField(default=False)
    lease_minutes = models.PositiveSmallIntegerField(default=10, validators=[MinValueValidator(1)])
    # Judgments made elsewhere (imported, pulled) fill overlap slots only if the lead says so.
    overlap_counts_external = models.BooleanField(
        default=False, help_text="Imported judgments count toward each comparison's overlap k.")
    # Intra-rater consistency: this share of next-task calls re-serves one of the rater's own judged
    # pairs, sides swapped, judged at least `consistency_min_gap` judgments ago (0: never).
    consistency_fraction = models.FloatField(
        default=0.0, validators=[
            validate_finite, MinValueValidator(0.0, message="the share of re-served tasks cannot be negative (0 turns it off)"),
            MaxValueValidator(MAX_CONSISTENCY_FRACTION,
                              message=f"re-serve at most {MAX_CONSISTENCY_FRACTION:g} of the tasks "
                                      f"(one in {round(1 / MAX_CONSISTENCY_FRACTION)})")],
        help_text="Share of next tasks (0 to 0.2) that re-serve one of the rater's own earlier pairs, sides swapped, "
                  "to measure how often raters agree with themselves. 0 turns it off.")
    consistency_min_gap = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(1, message="the gap is at least 1 judgment"),
                                MaxValueValidator(10_000, message="the gap is at most 10000 judgments")],
        help_text="A pair is re-served only after the rater made at least this many other judgments since.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=models.Q(overlap__gte=1), name="project_overlap_positive"),
            models.CheckConstraint(condition=models.Q(consistency_fraction__gte=0.0,
                                                      consistency_fraction__lte=MAX_CONSISTENCY_FRACTION),
                                   name="project_consistency_fraction_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def scale_spec(self) -> ScaleSpec:
        return SCALE_SPECS[Scale(self.scale)]


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} in {self.project}"
