"""/api/v1 for raters (next task, judgment, skip) and data leads (imports)."""
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, File, Header, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import StrictInt

from webapp.comparisons import imports, services
from webapp.comparisons.models import Assignment, ImportBatch, Judgment
from webapp.core.api import RowId, SlugPath, Text, accepts_upload, error_responses, checked_text
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.uploads import body_to_tempfile, uploaded_file
from webapp.projects.selectors import project_for_lead, project_for_member

router = Router(tags=["comparisons"])
DATE_TIME = {"format": "date-time"}


# --- schemas --------------------------------------------------------------------------------
class MessageOut(Schema):
    role: str
    content: str = Field(description="raw text as imported: escape before display")
    html: str = Field(description="sanitized rendering of the markdown")


class PromptOut(Schema):
    messages: list[MessageOut]


class SideOut(Schema):
    html: str = Field(description="sanitized rendering of the markdown")
    text: str = Field(description="raw untrusted model output: escape before display")


class ServedGuidelineOut(Schema):
    version: int
    sha256: str


class AssignmentOut(Schema):
    """A leased task. Nothing here reveals which side is canonical A or B."""

    assignment_id: int
    project: str
    prompt: PromptOut
    left: SideOut
    right: SideOut
    guideline: ServedGuidelineOut
    lease_expires_at: str = Field(json_schema_extra=DATE_TIME)
    scale: dict[str, Any] = Field(description="name, allows_tie and strengths [{value, label}]")
    allow_both_bad: bool
    rationale_required: bool


class JudgmentIn(Schema):
    choice: Literal["left", "right", "tie", "both_bad"]
    strength: Annotated[StrictInt, Field(ge=-1000, le=1000)] | None = Field(
        None, description="required with left/right on scales with strengths")
    rationale: Text(services.MAX_RATIONALE_CHARS) = ""
    flags: list[Literal[tuple(Judgment.Flag.values)]] = Field(default_factory=list, max_length=len(Judgment.Flag.values))
    active_ms: Annotated[StrictInt, Field(ge=0, le=services.MAX_ACTIVE_MS)] | None = Field(
        None, description="client-measured active time on the task")


class JudgmentOut(Schema):
    judgment_id: int
    assignment_id: int
    choice: str
    strength: int | None
    supersedes: int | None


class SkipIn(Schema):
    reason: Text(services.MAX_SKIP_REASON_CHARS) = ""


class SkipOut(Schema):
    assignment_id: int
    status: str


class LineProblem(Schema):
    line: int | None = None
    field: str | None = None
    reason: str


class ImportOut(Schema):
    import_id: int
    project: str
    kind: Literal[tuple(ImportBatch.Kind.values)]
    file_name: str
    sha256: str
    status: Literal[tuple(ImportBatch.Status.values)]
    format: str
    skip_invalid: bool
    read: int
    created: int
    already_present: int
    rejected: int
    duplicates_in_file: int
    empty_turns: int
    rejects: list[LineProblem] = Field(description="rejected lines (capped; `rejected` is the total)")
    left_out: list[LineProblem] = Field(description="valid lines left out, e.g. an earlier row of the same rater")
    error: str
    requested_at: str = Field(json_schema_extra=DATE_TIME)
    finished_at: str | None = Field(json_schema_extra=DATE_TIME)
    url: str


AssignmentIdPath = Annotated[RowId, Path(description="an assignment id")]


# --- operations -----------------------------------------------------------------------------
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
        "left": {"html": left.html, "text": left.text},
        "right": {"html": right.html, "text": right.text},
        "guideline": {"version": assignment.guideline_version.number, "sha256": assignment.guideline_version.sha256},
        "lease_expires_at": assignment.expires_at.isoformat(),
        "scale": {"name": project.scale, **project.scale_spec.as_dict()},
        "allow_both_bad": project.allow_both_bad,
        "rationale_required": project.rationale_required,
    }


@router.post("/projects/{slug:slug}/assignments/next",
             response={200: AssignmentOut, 204: None, **error_responses(401, 403, 404, 409, 413)},
             operation_id="assignmentNext", summary="Lease the next comparison (or get back your live lease)",
             description="204: nothing left for you. 409 `guideline_not_acknowledged` or `quiz_required`.")
def assignment_next(request, slug: SlugPath):
    user = request.auth
    project = project_for_member(slug=slug, user=user)
    assignment = services.assignment_next(project=project, rater=user)
    if assignment is None:
        return HttpResponse(status=204)
    assignment.project = project
    return assignment_payload(assignment)


@router.post("/assignments/{int:assignment_id}/judgment",
             response={(200, 201): JudgmentOut, **error_responses(400, 401, 403, 404, 409, 413)},
             operation_id="judgmentSubmit",
             summary="Submit a judgment; on an already judged assignment, a new key submits a correction",
             description="201 stored; 200 a replay of an earlier request with the same Idempotency-Key "
                         "(header Idempotent-Replayed: true). 409 `lease_lost`, or the key was used for "
                         "another assignment.")
def judgment_submit(request, response: HttpResponse, assignment_id: AssignmentIdPath, payload: JudgmentIn,
                    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=100,
                                                  pattern=r"^[ -~]+$",
                                                  description="1 to 100 printable ASCII characters")):
    judgment, created = services.judgment_submit(
        assignment_id=assignment_id, rater=request.auth, choice=payload.choice, strength=payload.strength,
        rationale=payload.rationale, flags=list(payload.flags), active_ms=payload.active_ms,
        idempotency_key=idempotency_key,
    )
    if not created:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if created else 200, {
        "judgment_id": judgment.pk, "assignment_id": assignment_id, "choice": judgment.choice_displayed,
        "strength": judgment.strength, "supersedes": judgment.supersedes_id,
    })


@router.post("/assignments/{int:assignment_id}/skip",
             response={200: SkipOut, **error_responses(400, 401, 403, 404, 409, 413)},
             operation_id="assignmentSkip", summary="Give a leased task back, with a reason",
             description="The pair goes back to the pool, never to you again. 409 when the lease was lost.")
def assignment_skip(request, assignment_id: AssignmentIdPath, payload: SkipIn):
    assignment = services.assignment_skip(assignment_id=assignment_id, rater=request.auth, reason=payload.reason)
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
        "url": reverse("api:import-detail", args=[batch.pk]),
    }


_IMPORT_BODY = {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary"}}}},
}}


SkipInvalidQuery = Annotated[bool, Query(description="import the valid lines and list the rejected ones on the "
                                                  "import (also accepted as a multipart form field)")]


@router.post("/projects/{slug:slug}/imports", response={202: ImportOut, **error_responses(403, 404)},
             operation_id="importCreate", openapi_extra={"requestBody": _IMPORT_BODY},
             summary="Import a JSONL file (optionally gzipped) of comparisons; data leads and admins",
             description="Send the file as the body (name it with ?file_name=) or as multipart field `file`. "
                         "Streamed to disk; over WB_MAX_IMPORT_BYTES → 413. 202: queued; poll its url.")
@accepts_upload
def import_create(request: HttpRequest, slug: SlugPath, file: UploadedFile | None = File(None),
                  file_name: Text(255, min_length=1) = Query("upload.jsonl"), skip_invalid: SkipInvalidQuery = False):
    return _queue_import(request, slug, file, file_name=file_name, skip_invalid=skip_invalid,
                         kind=ImportBatch.Kind.COMPARISONS, source="")


@router.post("/projects/{slug:slug}/judgments/imports", response={202: ImportOut, **error_responses(403, 404)},
             operation_id="judgmentImportCreate", openapi_extra={"requestBody": _IMPORT_BODY},
             summary="Import judgments made elsewhere (CSV or JSONL, optionally gzipped) onto imported comparisons; "
                     "data leads and admins",
             description="Sent like an import of comparisons; `source` names where the judgments were made.")
@accepts_upload
def judgment_import_create(request: HttpRequest, slug: SlugPath, file: UploadedFile | None = File(None),
                           file_name: Text(255, min_length=1) = Query("judgments.csv"),
                           skip_invalid: SkipInvalidQuery = False, source: Text(200) = Query("")):
    return _queue_import(request, slug, file, file_name=file_name, skip_invalid=skip_invalid,
                         kind=ImportBatch.Kind.JUDGMENTS, source=source)


def _form_flag(request, name: str) -> bool:
    value = request.POST.get(name, "").strip().lower()
    if value not in ("", "0", "1", "true", "false"):
        raise ValidationFailed(f"{name} must be true or false", field=name)
    return value in ("1", "true")


def _form_text(request, name: str, *, max_length: int) -> str:
    return checked_text(request.POST.get(name, ""), name, max_length=max_length)


def _queue_import(request, slug, file, *, file_name: str, skip_invalid: bool, kind: str, source: str):
    project = project_for_lead(slug=slug, user=request.auth)
    if file is not None:
        upload = uploaded_file(file)
        skip_invalid = skip_invalid or _form_flag(request, "skip_invalid")
        source = source or _form_text(request, "source", max_length=200)
        checked_text(upload.name, "file")  # a file name can carry NUL; it is stored (cut to 255)
    elif request.content_type == "multipart/form-data":
        raise ValidationFailed("the multipart request has no 'file' part", field="file")
    else:
        upload = body_to_tempfile(request, file_name=file_name)
    if upload.size == 0:
        raise ValidationFailed("the file is empty: send it as the request body, or as multipart field 'file'",
                               field="file")
    with upload.buffer() as data:
        batch = imports.import_request(project=project, data=data, file_name=upload.name, actor=request.auth,
                                       skip_invalid=skip_invalid, kind=kind, source=source.strip())
    batch.project = project
    return Status(202, import_payload(batch))


@router.get("/imports/{int:import_id}", response={200: ImportOut, **error_responses(401, 403, 404)},
            operation_id="importDetail", url_name="import-detail", summary="An import's status and counts")
def import_detail(request, import_id: Annotated[RowId, Path()]):
    # The counts and the job's state in one SELECT: read apart, a poll landing between them and the
    # worker's commit saw "done" beside the counts from before the import (done, 0 created).
    batch = ImportBatch.objects.select_related("project", "job").defer("upload").filter(pk=import_id).first()
    if batch is None:
        raise NotFound("no such import")
    project_for_lead(slug=batch.project.slug, user=request.auth)
    return import_payload(batch)
