"""The audit log: a filtered, paginated page and streamed CSV / JSON Lines exports."""
import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from webapp.accounts.models import Role
from webapp.audit.selectors import FILTER_FIELDS, distinct_actions, events_visible_to, filter_events
from webapp.audit.services import audit_verify
from webapp.core import clock
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.projects.selectors import projects_visible_to, role_of

PAGE_SIZE = 100
EXPORT_CHUNK = 2000
# Exactly the fields the hash covers (AuditEvent.content) plus the hash: each row verifies offline.
EXPORT_FIELDS = ("seq", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "project_id",
                 "request_id", "ip", "payload", "prev_hash", "hash")
PROVENANCE_PAGES = {"comparisons.judgment": "judgment-provenance", "comparisons.comparison": "comparison-provenance"}


def _forbidden_as_403(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Forbidden as error:
            return render(request, "projects/forbidden.html", {"detail": error.message}, status=403)

    wrapper.__name__ = view.__name__
    return wrapper


@require_GET
@login_required
@_forbidden_as_403
def event_list(request):
    visible = events_visible_to(request.user)
    error, status = "", 200
    try:
        events = filter_events(visible, request.GET)
    except ValidationFailed as failure:
        error, status, events = failure.message, 400, visible.none()
    page = Paginator(events.order_by("-seq"), PAGE_SIZE).get_page(request.GET.get("page"))
    projects = {p.pk: p.slug for p in projects_visible_to(request.user).only("pk", "slug")}
    rows = [_display_row(event, projects) for event in page]
    is_admin = role_of(request.user) == Role.ADMIN
    return render(request, "audit/event_list.html", {
        "page": page, "rows": rows, "error": error, "filters": _filter_values(request.GET),
        "actions": distinct_actions(visible), "projects": sorted(projects.values()),
        "export_query": _filter_query(request.GET), "chain": audit_verify() if is_admin else None,
    }, status=status)


@require_GET
@login_required
@_forbidden_as_403
def export_csv(request):
    return _export(request, "csv", "text/csv; charset=utf-8", _csv_lines)


@require_GET
@login_required
@_forbidden_as_403
def export_jsonl(request):
    return _export(request, "jsonl", "application/x-ndjson; charset=utf-8", _jsonl_lines)


def _export(request, extension, content_type, lines):
    try:
        events = filter_events(events_visible_to(request.user), request.GET)
    except ValidationFailed as failure:
        return HttpResponseBadRequest(failure.message, content_type="text/plain; charset=utf-8")
    # Chain order, read in chunks: a large log is never held in memory.
    response = StreamingHttpResponse(lines(events.order_by("seq").iterator(chunk_size=EXPORT_CHUNK)),
                                     content_type=content_type)
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.{extension}"'
    return response


def export_row(event) -> dict:
    """Return the event as exported: the hashed content (see AuditEvent.content) plus its hash."""
    return {**event.content(), "hash": event.hash}


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a generator."""

    def write(self, value):
        return value


def _csv_lines(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for event in events:
        row = export_row(event)
        # In CSV, payload is its JSON text and a null actor_id / project_id is an empty cell.
        row["payload"] = json.dumps(row["payload"], sort_keys=True, ensure_ascii=False)
        yield writer.writerow(["" if row[field] is None else row[field] for field in EXPORT_FIELDS])


def _jsonl_lines(events):
    for event in events:
        row = export_row(event)
        yield json.dumps({field: row[field] for field in EXPORT_FIELDS}, ensure_ascii=False) + "\n"


def _filter_values(params) -> dict:
    return {name: (params.get(name) or "").strip() for name in FILTER_FIELDS}


def _filter_query(params) -> str:
    query = params.copy()
    query.pop("page", None)
    return query.urlencode()


def _display_row(event, project_slugs: dict) -> dict:
    page_name = PROVENANCE_PAGES.get(event.object_type)
    linkable = page_name and event.object_id.isascii() and event.object_id.isdigit()
    return {
        "event": event,
        "object": f"{event.object_type}:{event.object_id}" if event.object_type else event.object_id,
        "object_url": reverse(page_name, args=[int(event.object_id)]) if linkable else "",
        "project": project_slugs.get(event.project_id, event.project_id),
        "payload": json.dumps(event.payload, sort_keys=True, ensure_ascii=False),
    }
