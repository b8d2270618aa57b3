from django.conf import settings
from django.db import models

from webapp.guidelines.models import GuidelineVersion
from webapp.projects.models import Project


class LabelStudioPush(models.Model):
    """A Label Studio project we created from a workbench project: which guideline version its
    instructions carried and, per task, which comparison it shows and whether the sides were
    swapped (B on the left). Judgments pulled back from it map through this record. The token
    used is never stored."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="labelstudio_pushes")
    url = models.CharField(max_length=500, help_text="Label Studio base URL")
    ls_project_id = models.PositiveIntegerField()
    guideline_version = models.ForeignKey(GuidelineVersion, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    pushed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    pushed_at = models.DateTimeField(auto_now_add=True)
    # {"<Label Studio task id>": [comparison id, swapped]}
    tasks = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["url", "ls_project_id"], name="labelstudio_push_unique")]

    def __str__(self):
        return f"push of {self.project.slug} to {self.url} project {self.ls_project_id}"
