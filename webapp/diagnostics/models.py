"""Sycophancy probe suites a lead uploaded for a project (the shipped ones live in fixtures/probes), and
the rater-quality thresholds a lead saved for it."""
from django.conf import settings
from django.db import models

from prefkit import probes
from webapp.projects.models import Project


class ProbeSuite(models.Model):
    """One suite per (project, name). A new upload under the same name replaces the items and
    bumps `version`; the audit trail keeps every version's sha256 and size. A suite named like a
    shipped one (opinion, answer, pushback, feedback) takes its place for this project."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="probe_suites")
    name = models.CharField(max_length=40, help_text="the file's `suite` field")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, help_text="of the uploaded bytes (before any gzip decompression)")
    item_count = models.PositiveIntegerField()
    items = models.JSONField(help_text="the parsed items, one suite-file record each (prefkit.probes.as_record)")
    version = models.PositiveIntegerField(default=1)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(help_text="first upload under this name")
    updated_at = models.DateTimeField(help_text="the current version's upload")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="probe_suite_unique_name")]
        ordering = ["name"]

    def __str__(self):
        return f"probe suite {self.name} v{self.version} ({self.project.slug})"

    @property
    def overrides_built_in(self) -> bool:
        return self.name in probes.BUILT_IN

    def probe_items(self) -> list[probes.ProbeItem]:
        return [probes.parse_item(record, f"{self.name} item {i}") for i, record in enumerate(self.items, start=1)]


class RaterThresholds(models.Model):
    """A project's saved rater-quality thresholds (the fields of prefkit.diagnostics.Thresholds):
    what the diagnostics page, its job, `manage.py diagnostics` and the one-click export exclusion
    flag raters by. A project without a row uses the defaults. Changed only by thresholds_save."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="rater_thresholds")
    values = models.JSONField(help_text="{threshold name: value}; a name missing here takes its default")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"rater thresholds of {self.project}"
