from django.conf import settings
from django.db import models

from webapp.projects.models import Project


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
