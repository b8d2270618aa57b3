"""Reward models trained by training jobs, and the curve each run reported while it ran."""
from django.db import models

from webapp.projects.models import Project
from webapp.runs.models import Job


class TrainingLog(models.Model):
    """One log the trainer reported (loss, learning rate, eval accuracy...) at a step: the live curves."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="training_logs")
    attempt = models.PositiveIntegerField(help_text="the job attempt that logged it (a resumed run adds to it)")
    step = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    logged_at = models.DateTimeField()

    class Meta:
        ordering = ["job", "step", "id"]
        indexes = [models.Index(fields=["job", "step"], name="traininglog_job_step")]


class RewardModel(models.Model):
    """A finished model folder and where it came from (written with the job's success, in one transaction)."""

    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="reward_model")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="reward_models")
    path = models.CharField(max_length=1000, help_text="the model folder on the server")
    export_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   help_text="the export it learned from (None: a dataset given by path)")
    dataset = models.CharField(max_length=1000, help_text="the dataset folder or file it was trained on")
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    base_model = models.CharField(max_length=1000)
    guideline_versions = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    eval_metrics = models.JSONField(default=dict, blank=True)
    curve = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"reward model {self.pk} (job {self.job_id})"
