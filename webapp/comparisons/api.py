from django.http import HttpResponse, JsonResponse
from django.urls import reverse

from webapp.comparisons import imports, services
from webapp.comparisons.models import Assignment, ImportBatch
from webapp.accounts.api_auth import api_view, json_body
from webapp.core.errors import NotFound, ValidationFailed
from webapp.projects.selectors import (
    project_for_lead,
    project_for_member,
    projects_visible_to,
    role_of,
)


def _side(response) -> dict:
    return {"html": response.html, "text": response.text}


def assignment_payload(assignment: Assignment) -> dict:
    """What a rater is shown. Nothing here reveals which side is canonical A or B."""
    comparison, project = assignment.comparison, assignment.project
    a, b = comparison.response_a, comparison.response_b
    left, right = (a, b) if assignment.left_is_a else (b, a)
    prompt = comparison.prompt
    return {
        "assignment_id": assignment.pk,
        "project": project.slug,
        "prompt": {"messages": [
            {"role": m["role"], "content": m["content"], "html": h["html"]}
            for m, h in zip(prompt.messages, prompt.messages_html)
        ]},
        "left": _side(left),
        "right": _side(right),
        "guideline": {"version": assignment.guideline_version.number, "sha256": assignment.guideline_version.sha256},
        "lease_expires_at": assignment.expires_at.isoformat(),
        "scale": {"name": project.scale, **project.scale_spec.as_dict()},
        "allow_both_bad": project.allow_both_bad,
        "rationale_required": project.rationale_required,
    }


@api_view(("GET",))
def project_list(request, user):
    return {"projects": [
        {"slug": p.slug, "name": p.name, "overlap": p.overlap, "scale": p.scale}
        for p in projects_visible_to(user).order_by("slug")
    ], "role": role_of(user)}


@api_view(("POST",))
def assignment_next(request, user, slug):
    project = project_for_member(slug=slug, user=user)
    assignment = services.assignment_next(project=project, rater=user)
    if assignment is None:
        return HttpResponse(status=204)
    assignment.project = project
    return assignment_payload(assignment)


def _optional_int(body: dict, name: str):
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"{name} must be a whole number", field=name)
    return value


@api_view(("POST",))
def judgment_submit(request, user, assignment_id):
    body = json_body(request)
    choice = body.get("choice")
    if not isinstance(choice, str):
        raise ValidationFailed("choice is required: left, right, tie or both_bad", field="choice")
    judgment, created = services.judgment_submit(
        assignment_id=assignment_id, rater=user, choice=choice, strength=_optional_int(body, "strength"),
        rationale=body.get("rationale", ""), flags=body.get("flags", []), active_ms=_optional_int(body, "active_ms"),
        idempotency_key=request.headers.get("Idempotency-Key", ""),
    )
    payload = {"judgment_id": judgment.pk, "assignment_id": assignment_id, "choice": judgment.choice_displayed,
               "strength": judgment.strength, "supersedes": judgment.supersedes_id}
    response = JsonResponse(payload, status=201 if created else 200)
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


@api_view(("POST",))
def assignment_skip(request, user, assignment_id):
    reason = json_body(request).get("reason", "")
    if not isinstance(reason, str):
        raise ValidationFailed("reason must be a string", field="reason")
    assignment = services.assignment_skip(assignment_id=assignment_id, rater=user, reason=reason)
    return {"assignment_id": assignment.pk, "status": assignment.status}


def import_payload(batch: ImportBatch) -> dict:
    return {
        "import_id": batch.pk, "project": batch.project.slug, "kind": batch.kind, "file_name": batch.file_name,
        "sha256": batch.sha256, "status": batch.status, "format": batch.format, "skip_invalid": batch.skip_invalid,
        "read": batch.read_count, "created": batch.created_count, "already_present": batch.existing_count,
        "rejected": batch.rejected_count, "duplicates_in_file": batch.duplicate_count,
        "empty_turns": batch.empty_turn_count, "rejects": batch.rejects, "left_out": batch.notes,
        "error": batch.error, "job_id": batch.job_id, "attempts": batch.attempts,
        "requested_at": batch.requested_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "url": reverse("api-import-detail", args=[batch.pk]),
    }


def _flag(request, name: str) -> bool:
    value = request.POST.get(name, request.GET.get(name, "")).strip().lower()
    if value not in ("", "0", "1", "true", "false"):
        raise ValidationFailed(f"{name} must be true or false", field=name)
    return value in ("1", "true")


def _queue_import(request, user, slug, *, kind: str, default_name: str):
    project = project_for_lead(slug=slug, user=user)
    upload = request.FILES.get("file")
    if upload is not None:
        data, file_name = upload.read(), upload.name
    else:
        data, file_name = request.body, request.GET.get("file_name", default_name)
    if not data:
        raise ValidationFailed("send the file as the request body, or as multipart field 'file'", field="file")
    source = request.POST.get("source", request.GET.get("source", ""))
    batch = imports.import_request(project=project, data=data, file_name=file_name, actor=user,
                                   skip_invalid=_flag(request, "skip_invalid"), kind=kind, source=source)
    batch.project = project
    return JsonResponse(import_payload(batch), status=202)


@api_view(("POST",))
def import_create(request, user, slug):
    return _queue_import(request, user, slug, kind=ImportBatch.Kind.COMPARISONS, default_name="upload.jsonl")


@api_view(("POST",))
def judgment_import_create(request, user, slug):
    """Judgments made elsewhere (CSV or JSONL) onto this project's imported comparisons."""
    return _queue_import(request, user, slug, kind=ImportBatch.Kind.JUDGMENTS, default_name="judgments.csv")


@api_view(("GET",))
def import_detail(request, user, import_id):
    batch = ImportBatch.objects.select_related("project").defer("upload").filter(pk=import_id).first()
    if batch is None:
        raise NotFound("no such import")
    project_for_lead(slug=batch.project.slug, user=user)
    return import_payload(batch)
