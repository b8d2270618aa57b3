"""The project page's Label Studio card: upload an export, pull a project, push comparisons.

Pull and push run in the request for now (see the README: not yet jobs). The token comes in a
password field, is used for the calls and dropped: never stored, logged, or shown back (messages
are built from our own error texts, which never include it)."""
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from prefkit.labelstudio import LabelStudioError
from webapp.core.errors import PayloadTooLarge
from webapp.core.uploads import refuse_oversized_upload, uploaded_file, use_import_upload_handlers
from webapp.core.views import domain_errors_as_pages, too_large_page
from webapp.labelstudio.services import labelstudio_import_file, labelstudio_pull, labelstudio_push
from webapp.projects.selectors import project_for_lead

log = logging.getLogger(__name__)


def _summary(result) -> str:
    return (f"{result.created} judgments added, {result.already_present} already present, {result.cancelled} "
            f"skipped (cancelled), {len(result.repeats)} earlier annotations replaced by a later one")


@csrf_exempt  # checked below, once the upload handlers are set (as lead_import does)
@login_required
@require_POST
def upload(request, slug):
    """An upload takes the import body limit (WB_MAX_IMPORT_BYTES) and goes to a temporary file."""
    try:
        refuse_oversized_upload(request)
    except PayloadTooLarge as error:
        return too_large_page(request, error)
    use_import_upload_handlers(request)
    return _upload_checked(request, slug)


@csrf_protect
@domain_errors_as_pages
def _upload_checked(request, slug):
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
        result = labelstudio_pull(project=project, url=url, token=token, ls_project_id=ls_project_id,
                                  actor=request.user)
    except ValueError as error:
        messages.error(request, "Nothing pulled: " + (str(error) if isinstance(error, LabelStudioError)
                                                      else "the Label Studio project id must be a number."))
    else:
        messages.success(request, f"Pulled Label Studio project {ls_project_id}: {_summary(result)}.")
    return redirect("lead-project", slug=slug)


@sensitive_post_parameters("token")
@login_required
@require_POST
@domain_errors_as_pages
def push(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    url, token = request.POST.get("url", "").strip(), request.POST.get("token", "")
    try:
        record = labelstudio_push(project=project, url=url, token=token, actor=request.user)
    except LabelStudioError as error:
        messages.error(request, f"Nothing pushed: {error}")
    else:
        version = record.guideline_version
        messages.success(request, f"Pushed {len(record.tasks)} comparisons to Label Studio project "
                                  f"{record.ls_project_id} (guideline {'v%d' % version.number if version else 'none'}).")
    return redirect("lead-project", slug=slug)
