"""Data-lead pages: project progress and file import."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.comparisons.imports import import_request
from webapp.comparisons.models import Assignment, Comparison, ImportBatch
from webapp.core.errors import DomainError, Forbidden
from webapp.guidelines.models import GuidelineVersion
from webapp.projects.selectors import project_for_lead


def _lead_project(slug, user):
    try:
        return project_for_lead(slug=slug, user=user)
    except Forbidden:
        raise
    except DomainError:
        raise Http404("no such project of yours") from None


def _forbidden_as_403(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Forbidden as error:
            return render(request, "projects/forbidden.html", {"detail": error.message}, status=403)

    wrapper.__name__ = view.__name__
    return wrapper


@login_required
@_forbidden_as_403
def lead_project(request, slug):
    project = _lead_project(slug, request.user)
    comparisons = Comparison.objects.filter(project=project)
    totals = comparisons.aggregate(
        total=Count("id"), complete=Count("id", filter=Q(judged__gte=project.overlap)),
        started=Count("id", filter=Q(judged__gt=0)),
    )
    live_leases = Assignment.objects.filter(project=project, status=Assignment.Status.LEASED).count()
    return render(request, "projects/lead_project.html", {
        "project": project, "totals": totals, "live_leases": live_leases,
        "batches": ImportBatch.objects.filter(project=project).defer("upload").select_related("imported_by")[:50],
        "versions": GuidelineVersion.objects.filter(project=project).order_by("-number"),
    })


@login_required
@require_POST
@_forbidden_as_403
def lead_import(request, slug):
    project = _lead_project(slug, request.user)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a file to import.")
        return redirect("lead-project", slug=slug)
    try:
        batch = import_request(project=project, data=upload.read(), file_name=upload.name, actor=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.info(request, f"{batch.file_name} is queued for import (#{batch.pk}); refresh to see its status.")
    return redirect("lead-project", slug=slug)
