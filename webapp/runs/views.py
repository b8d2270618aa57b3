"""Jobs pages for data leads: the list per project, one job with a live progress bar, cancel, download."""
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.core.errors import DomainError
from webapp.core.views import domain_errors_as_pages
from webapp.projects.selectors import project_for_lead
from webapp.runs import kinds, selectors, services


@login_required
@domain_errors_as_pages
def project_jobs(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    jobs = list(selectors.jobs_for_project(project))
    return render(request, "runs/project_jobs.html", {
        "project": project, "jobs": [(job, selectors.job_status(job)) for job in jobs],
    })


@login_required
@domain_errors_as_pages
def job_detail(request, job_id):
    job = selectors.job_for_lead(job_id=job_id, user=request.user)
    return render(request, "runs/job_detail.html", {
        "job": job, "status": selectors.job_status(job), "kind_label": _kind_label(job.kind),
        "params_json": json.dumps(job.params, indent=2, ensure_ascii=False),
    })


@login_required
@domain_errors_as_pages
def job_status_json(request, job_id):
    """The small document the pages poll for their progress bars (no page reload)."""
    job = selectors.job_for_lead(job_id=job_id, user=request.user)
    return JsonResponse(selectors.job_status(job))


@login_required
@require_POST
@domain_errors_as_pages
def job_cancel(request, job_id):
    job = selectors.job_for_lead(job_id=job_id, user=request.user)
    try:
        services.job_cancel(job_id=job.pk, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.info(request, f"Job {job.pk} cancelled; if it was running it stops at its next step and leaves no files.")
    return redirect("job-detail", job_id=job.pk)


@login_required
@domain_errors_as_pages
def job_artifact(request, job_id, name):
    artifact = selectors.artifact_for_lead(job_id=job_id, name=name, user=request.user)
    return artifact_response(artifact, request.user)


def artifact_response(artifact, user) -> FileResponse:
    try:
        handle = open(artifact.path, "rb")
    except FileNotFoundError:
        raise Http404(f"{artifact.name} is no longer on the server") from None
    services.artifact_download_record(artifact=artifact, actor=user)
    return FileResponse(handle, as_attachment=True, filename=artifact.name.replace("/", "_"))


def _kind_label(name: str) -> str:
    try:
        return kinds.get(name).label or name
    except LookupError:
        return name
