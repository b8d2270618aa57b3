"""JSON API for jobs: status, cancel, authenticated file download (django-ninja router)."""
from typing import Annotated

from ninja import Path, Router, Schema

from webapp.core.api import RowId, error_responses
from webapp.runs import selectors, services, views

router = Router(tags=["jobs"])


class Progress(Schema):
    done: int
    total: int | None
    fraction: float | None
    message: str


class ArtifactOut(Schema):
    name: str
    size_bytes: int
    sha256: str
    rows: int | None
    url: str


class JobOut(Schema):
    job_id: int
    kind: str
    project: str | None
    state: str
    finished: bool
    progress: Progress
    attempts: int
    max_attempts: int
    error: str
    requested_by: str | None
    requested_at: str
    started_at: str | None
    finished_at: str | None
    elapsed_seconds: float | None
    remaining_seconds: float | None
    params: dict
    artifacts: list[ArtifactOut]
    url: str


ERRORS = error_responses(403, 404)


def job_payload(job) -> dict:
    return selectors.job_status(job, api=True)


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, summary="A job's state, progress and files")
def job_get(request, job_id: Annotated[RowId, Path()]):
    return job_payload(selectors.job_for_lead(job_id=job_id, user=request.auth))


@router.post("/jobs/{job_id}/cancel", response={200: JobOut, **error_responses(403, 404, 409)},
             summary="Cancel a queued or running job (it stops at its next step and leaves no files)")
def job_cancel(request, job_id: Annotated[RowId, Path()]):
    job = selectors.job_for_lead(job_id=job_id, user=request.auth)
    services.job_cancel(job_id=job.pk, actor=request.auth)
    job.refresh_from_db()
    return job_payload(job)


@router.get("/jobs/{job_id}/artifacts/{path:name}", response={200: None, **ERRORS},
            summary="Download one of a job's files (audited)")
def job_artifact(request, job_id: Annotated[RowId, Path()], name: str):
    artifact = selectors.artifact_for_lead(job_id=job_id, name=name, user=request.auth)
    return views.artifact_response(artifact, request.auth)
