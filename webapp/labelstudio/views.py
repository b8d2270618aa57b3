"""The project page's Label Studio card: upload an export, pull a project, push comparisons.

Pull and push run as jobs (webapp.labelstudio.jobs); the page redirects to the job's page. The
token comes in a password field and is kept only sealed beside the job until its attempt ends:
never in the job's params, the audit trail or a log, and never shown back."""
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from prefkit.labelstudio import LabelStudioError
from webapp.core.uploads import uploaded_file
from webapp.core.views import domain_errors_as_pages, takes_upload
from webapp.labelstudio.jobs import PULL_JOB_KIND, PUSH_JOB_KIND, labelstudio_job_request
from webapp.labelstudio.services import labelstudio_import_file
from webapp.projects.selectors import project_for_lead

log = logging.getLogger(__name__)


def _summary(result) -> str:
    return (f"{result.created} judgments added, {result.already_present} already present, {result.cancelled} "
            f"skipped (cancelled), {len(result.repeats)} earlier annotations replaced by a later one")


@login_required
@require_POST
@takes_upload  # up to WB_MAX_IMPORT_BYTES, to a temporary file
@domain_errors_as_pages
def upload(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    file = request.FILES.get("file")
    if file is None:
        messages.error(request, "Choose a Label Studio export file (JSON or JSON_MIN).")
        return redirect("lead-project", slug=slug)
    try:
        with uploaded_file(file).buffer() as data:
            result = labelstudio_import_file(project=project, data=bytes(data), name=file.name, actor=request.user)
    except LabelStudioError as error:
        messages.error(request, f"Nothing imported: {error}")
    else:
        messages.success(request, f"{file.name} (Label Studio {result.format}): {_summary(result)}.")
    return redirect("lead-project", slug=slug)


@sensitive_post_parameters("token")
@login_required
@require_POST
@domain_errors_as_pages
def pull(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    url, token = request.POST.get("url", "").strip(), request.POST.get("token", "")
    try:
        ls_project_id = int(request.POST.get("ls_project", ""))
        job = labelstudio_job_request(kind=PULL_JOB_KIND, project=project, actor=request.user, url=url,
                                      token=token, ls_project_id=ls_project_id)
    except ValueError as error:
        messages.error(request, "Nothing pulled: " + (str(error) if isinstance(error, LabelStudioError)
                                                      else "the Label Studio project id must be a number."))
        return redirect("lead-project", slug=slug)
    messages.success(request, f"Pulling Label Studio project {ls_project_id} as job {job.pk}.")
    return redirect("job-detail", job_id=job.pk)


@sensitive_post_parameters("token")
@login_required
@require_POST
@domain_errors_as_pages
def push(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    url, token = request.POST.get("url", "").strip(), request.POST.get("token", "")
    try:
        job = labelstudio_job_request(kind=PUSH_JOB_KIND, project=project, actor=request.user, url=url, token=token)
    except LabelStudioError as error:
        messages.error(request, f"Nothing pushed: {error}")
        return redirect("lead-project", slug=slug)
    messages.success(request, f"Pushing the comparisons to Label Studio as job {job.pk}.")
    return redirect("job-detail", job_id=job.pk)
