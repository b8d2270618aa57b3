"""Reading jobs: who may see which, and the small status document the pages poll."""
from django.urls import reverse

from webapp.accounts.models import Role
from webapp.core import clock
from webapp.core.errors import Forbidden, NotFound
from webapp.projects.selectors import project_for_lead, role_of
from webapp.runs.models import Artifact, Job


def job_for_lead(*, job_id: int, user) -> Job:
    """The job if `user` leads its project (admins: any job). Raters get Forbidden, outsiders NotFound."""
    job = Job.objects.select_related("project", "requested_by").filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.project is None:
        if role_of(user) != Role.ADMIN:
            raise NotFound(f"no job {job_id}")
        return job
    project_for_lead(slug=job.project.slug, user=user)
    return job


def jobs_for_project(project, *, limit: int = 100):
    return Job.objects.filter(project=project).select_related("requested_by").prefetch_related("artifacts")[:limit]


def artifact_for_lead(*, job_id: int, name: str, user) -> Artifact:
    job = job_for_lead(job_id=job_id, user=user)
    artifact = job.artifacts.filter(name=name).first()
    if artifact is None:
        raise NotFound(f"job {job_id} has no file {name!r}")
    artifact.job = job
    return artifact


def _seconds(delta) -> float | None:
    return None if delta is None else round(delta.total_seconds(), 1)


def job_status(job: Job, *, api: bool = False) -> dict:
    """The facts a progress bar or a script needs (GET /api/v1/jobs/{id} and the pages' poll)."""
    now = clock.now()
    return {
        "job_id": job.pk, "kind": job.kind, "project": job.project.slug if job.project else None,
        "state": job.state, "finished": job.is_finished,
        "progress": {"done": job.progress_done, "total": job.progress_total, "fraction": job.fraction,
                     "message": job.progress_message},
        "attempts": job.attempts, "max_attempts": job.max_attempts, "error": job.error,
        "requested_by": job.requested_by.get_username() if job.requested_by else None,
        "requested_at": job.requested_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "elapsed_seconds": _seconds(job.elapsed(now)), "remaining_seconds": _seconds(job.remaining(now)),
        "params": job.params,
        "artifacts": [
            {"name": a.name, "size_bytes": a.size_bytes, "sha256": a.sha256, "rows": a.rows,
             "url": f"/api/v1/jobs/{job.pk}/artifacts/{a.name}" if api else reverse("job-artifact", args=[job.pk, a.name])}
            for a in job.artifacts.all()
        ],
        "url": reverse("job-detail", args=[job.pk]),
    }
