"""Reading reward models and training curves (who may see which, and the charts' points)."""
from webapp.core.errors import NotFound
from webapp.runs.selectors import job_for_lead
from webapp.training.models import RewardModel, TrainingLog


def models_for_project(project):
    return RewardModel.objects.filter(project=project).select_related("job", "job__requested_by", "export_job")


def model_for_lead(*, model_id: int, user) -> RewardModel:
    model = RewardModel.objects.select_related("job", "job__requested_by", "export_job", "project").filter(
        pk=model_id).first()
    if model is None:
        raise NotFound(f"no reward model {model_id}")
    job_for_lead(job_id=model.job_id, user=user)  # leads of its project, admins
    return model


def curve_points(job) -> dict[str, list[tuple[int, float]]]:
    """Per logged quantity, (step, value) in step order. Where a resumed attempt logged a step again,
    its value replaces the killed attempt's."""
    latest: dict[str, dict[int, float]] = {}
    for attempt, step, values in (TrainingLog.objects.filter(job=job).order_by("attempt", "step", "id")
                                  .values_list("attempt", "step", "values")):
        for key, value in values.items():
            latest.setdefault(key, {})[step] = value
    return {key: sorted(points.items()) for key, points in latest.items()}


def exports_to_train_on(project, limit: int = 50):
    from webapp.exports.services import EXPORT_JOB_KIND
    from webapp.runs.models import Job

    exports = Job.objects.filter(project=project, kind=EXPORT_JOB_KIND, state=Job.State.SUCCEEDED)[:limit]
    return [e for e in exports if (e.params.get("request") or {}).get("format") != "raw"]

