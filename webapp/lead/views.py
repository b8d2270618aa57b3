"""Data-lead pages: project progress and file import."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_GET

from webapp.comparisons.imports import import_request
from webapp.comparisons.models import Assignment, Comparison, ImportBatch, Judgment
from webapp.comparisons.selectors import project_progress, requeue_candidates
from webapp.comparisons.services import comparisons_requeue
from webapp.core import clock
from webapp.core.api import checked_text
from webapp.core.errors import DomainError, ValidationFailed
from webapp.core.uploads import uploaded_file
from webapp.core.views import domain_errors_as_pages, takes_upload
from webapp.guidelines.models import GuidelineVersion, Quiz
from webapp.comparisons.quiz import quiz_set
from webapp.projects.selectors import project_for_lead, role_of


@login_required
@domain_errors_as_pages
def lead_project(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    elsewhere = Judgment.objects.filter(comparison__project=project).exclude(origin=Judgment.Origin.HERE).count()
    return render(request, "lead/lead_project.html", {
        "project": project, "totals": _lead_progress(project), "batches": _recent_batches(project),
        "judgments_elsewhere": elsewhere,
        "versions": GuidelineVersion.objects.filter(project=project).order_by("-number"),
    })


@login_required
@require_GET
@domain_errors_as_pages
def lead_import_status(request, slug):
    """The lead page polls this while an import is pending or running: batch states and progress counts."""
    project = project_for_lead(slug=slug, user=request.user)
    return JsonResponse({
        "progress": _lead_progress(project),
        "batches": [{"id": b.pk, "file_name": b.file_name, "status": b.status, "created": b.created_count,
                     "already_present": b.existing_count, "rejected": b.rejected_count,
                     "error": Truncator(b.error).chars(300), "url": reverse("import-batch", args=[b.pk])}
                    for b in _recent_batches(project)],
    })


def _lead_progress(project) -> dict:
    totals = project_progress(project, now=clock.now())
    totals["live_leases"] = Assignment.objects.filter(project=project, status=Assignment.Status.LEASED).count()
    return totals


def _recent_batches(project):
    return ImportBatch.objects.filter(project=project).defer("upload", "rejects").select_related("imported_by", "job")[:50]


@login_required
@takes_upload
@domain_errors_as_pages
def lead_import(request, slug):
    """POST a file to import; a GET (a reload, a bookmark) goes to the project page."""
    if request.method != "POST":
        return redirect("lead-project", slug=slug)
    project = project_for_lead(slug=slug, user=request.user)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a file to import.")
        return redirect("lead-project", slug=slug)
    try:
        kind = request.POST.get("kind", ImportBatch.Kind.COMPARISONS)
        if kind not in ImportBatch.Kind.values:
            raise ValidationFailed("kind must be comparisons or judgments", field="kind")
        source = checked_text(request.POST.get("source", "").strip(), "source", max_length=200)
        with uploaded_file(upload).buffer() as data:
            batch = import_request(project=project, data=data, file_name=checked_text(upload.name, "file"),
                                   actor=request.user, skip_invalid=bool(request.POST.get("skip_invalid")),
                                   kind=kind, source=source)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.info(request, f"{batch.file_name} is queued for import (#{batch.pk}, job {batch.job_id}); "
                               "its status below updates by itself, its progress is on the Jobs page.")
    return redirect("lead-project", slug=slug)


@login_required
@domain_errors_as_pages
def lead_requeue(request, slug):
    """Send comparisons judged under an older guideline back for judgments under the current one."""
    project = project_for_lead(slug=slug, user=request.user)
    current = GuidelineVersion.objects.current_for(project)
    if request.method == "POST":
        try:
            ids = [int(value) for value in request.POST.getlist("comparison")]
            count = comparisons_requeue(project=project, comparison_ids=ids, actor=request.user)
        except ValueError:
            messages.error(request, "Comparison ids must be numbers.")
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Re-queued {count} comparison{'s' if count != 1 else ''} under guideline "
                                      f"v{current.number}; their earlier judgments stay, marked with their version.")
        return redirect("lead-requeue", slug=slug)
    disagreeing_only = request.GET.get("only") == "disagreeing"
    candidates = requeue_candidates(project=project, current_version_number=current.number,
                                    disagreeing_only=disagreeing_only) if current else []
    return render(request, "lead/lead_requeue.html", {
        "project": project, "current": current, "candidates": candidates, "disagreeing_only": disagreeing_only,
    })


@login_required
@domain_errors_as_pages
def lead_quiz(request, slug):
    """Set the onboarding quiz of the current guideline version (known-answer comparisons)."""
    project = project_for_lead(slug=slug, user=request.user)
    current = GuidelineVersion.objects.current_for(project)
    quiz = Quiz.objects.filter(version=current).first() if current else None
    if request.method == "POST" and current is not None:
        try:
            ids = [int(part) for part in request.POST.get("comparisons", "").replace(",", " ").split()]
            threshold = float(request.POST.get("threshold", "0")) / 100
            quiz_set(version=current, comparison_ids=ids, threshold=threshold, actor=request.user)
        except ValueError:
            messages.error(request, "Give comparison ids as numbers separated by commas, and a threshold in percent.")
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Quiz set for guideline v{current.number}.")
        return redirect("lead-quiz", slug=slug)
    attempts = quiz.attempts.select_related("user__profile").order_by("-submitted_at")[:200] if quiz else []
    gold_choices = Comparison.objects.filter(project=project).exclude(gold="").values_list("pk", "gold")[:200]
    return render(request, "lead/lead_quiz.html", {
        "project": project, "current": current, "quiz": quiz, "attempts": attempts, "gold_choices": gold_choices,
        "is_admin": role_of(request.user) == "admin",
    })
