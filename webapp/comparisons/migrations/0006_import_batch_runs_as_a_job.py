"""Import batches run as jobs (webapp/runs): their status, times and error move onto a Job row."""
import django.db.models.deletion
from django.db import migrations, models

_JOB_STATE = {"pending": "queued", "running": "queued", "failed": "failed"}


def batches_to_jobs(apps, schema_editor):
    """A batch that is not done gets a job in the matching state; a running one is queued again
    (its import rolled back if its worker is gone) and the sweeper re-sends it."""
    ImportBatch, Job = apps.get_model("comparisons", "ImportBatch"), apps.get_model("runs", "Job")
    for batch in ImportBatch.objects.exclude(status="done").iterator():
        job = Job.objects.create(
            kind="import", project_id=batch.project_id, requested_by_id=batch.imported_by_id,
            params={"file_name": batch.file_name}, state=_JOB_STATE[batch.status], error=batch.error,
            requested_at=batch.requested_at, enqueued_at=batch.requested_at, started_at=batch.started_at,
            finished_at=batch.finished_at, attempts=1 if batch.started_at else 0,
        )
        ImportBatch.objects.filter(pk=batch.pk).update(job=job)


class Migration(migrations.Migration):

    dependencies = [
        ('comparisons', '0005_judgment_origin_external_raters'),
        ('runs', '0001_jobs_and_artifacts'),
    ]

    operations = [
        migrations.AddField(
            model_name='importbatch',
            name='job',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                       related_name='import_batch', to='runs.job'),
        ),
        migrations.RunPython(batches_to_jobs, migrations.RunPython.noop),
        migrations.RemoveField(model_name='importbatch', name='error'),
        migrations.RemoveField(model_name='importbatch', name='finished_at'),
        migrations.RemoveField(model_name='importbatch', name='started_at'),
        migrations.RemoveField(model_name='importbatch', name='status'),
    ]
