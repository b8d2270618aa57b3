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
from webapp.lead.audit_selectors import (
    FILTER_FIELDS,
    distinct_actions,
    events_visible_to,
    filter_events,
    pseudonymizes_raters,
    rater_pseudonyms,
)
from webapp.audit.services import audit_verify
from webapp.core import clock
from webapp.core.errors import ValidationFailed
from webapp.core.views import domain_errors_as_pages
from webapp.projects.selectors import projects_visible_to, role_of

PAGE_SIZE = 100
EXPORT_CHUNK = 2000
# The fields the hash covers (AuditEvent.content), so each row verifies offline, then the hash. Rows a lead
# exports show a rater by pseudonym, flagged in the last column: those rows cannot verify, by design.
HASHED_FIELDS = ("seq", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "project_id",
                 "request_id", "ip", "payload", "prev_hash")
EXPORT_FIELDS = (*HASHED_FIELDS, "hash", "actor_pseudonymized")
PROVENANCE_PAGES = {"comparisons.judgment": "judgment-provenance", "comparisons.comparison": "comparison-provenance"}


@require_GET
@login_required
@domain_errors_as_pages
def event_list(request):
    visible, masked = events_visible_to(request.user), pseudonymizes_raters(request.user)
    error, status = "", 200
    try:
        events = filter_events(visible, request.GET, pseudonymous_raters=masked)
    except ValidationFailed as failure:
        error, status, events = failure.message, 400, visible.none()
    page = Paginator(events.order_by("-seq"), PAGE_SIZE).get_page(request.GET.get("page"))
    projects = {p.pk: p.slug for p in projects_visible_to(request.user).only("pk", "slug")}
    pseudonyms = rater_pseudonyms([event.actor_id for event in page]) if masked else {}
    rows = [_display_row(event, projects, pseudonyms) for event in page]
    is_admin = role_of(request.user) == Role.ADMIN
    return render(request, "audit/event_list.html", {
        "page": page, "rows": rows, "error": error, "filters": _filter_values(request.GET),
        "actions": distinct_actions(visible), "projects": sorted(projects.values()),
        "export_query": _filter_query(request.GET), "chain": audit_verify() if is_admin else None,
        "raters_pseudonymized": masked,
    }, status=status)


@require_GET
@login_required
@domain_errors_as_pages
def export_csv(request):
    return _export(request, "csv", "text/csv; charset=utf-8", _csv_lines)


@require_GET
@login_required
@domain_errors_as_pages
def export_jsonl(request):
    return _export(request, "jsonl", "application/x-ndjson; charset=utf-8", _jsonl_lines)


def _export(request, extension, content_type, lines):
    masked = pseudonymizes_raters(request.user)
    try:
        events = filter_events(events_visible_to(request.user), request.GET, pseudonymous_raters=masked)
    except ValidationFailed as failure:
        return HttpResponseBadRequest(failure.message, content_type="text/plain; charset=utf-8")
    pseudonyms = rater_pseudonyms(events.order_by().values("actor_id")) if masked else {}
    # Chain order, read in chunks: a large log is never held in memory.
    rows = (export_row(event, pseudonyms) for event in events.order_by("seq").iterator(chunk_size=EXPORT_CHUNK))
    response = StreamingHttpResponse(lines(rows), content_type=content_type)
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.{extension}"'
    return response


def export_row(event, pseudonyms: dict[int, str]) -> dict:
    """Return the event as exported: its hashed content (AuditEvent.content) and hash.

    An actor found in `pseudonyms` is shown by pseudonym, without a user id, and the row says so.
    """
    row = {**event.content(), "hash": event.hash, "actor_pseudonymized": event.actor_id in pseudonyms}
    if row["actor_pseudonymized"]:
        row.update(actor_id=None, actor_label=pseudonyms[event.actor_id])
    return row


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a generator."""

    def write(self, value):
        return value


def _csv_lines(rows):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for row in rows:
        # In CSV, payload is its JSON text, a null actor_id / project_id an empty cell, a boolean 0 or 1.
        row.update(payload=json.dumps(row["payload"], sort_keys=True, ensure_ascii=False),
                   actor_pseudonymized=int(row["actor_pseudonymized"]))
        yield writer.writerow(["" if row[field] is None else row[field] for field in EXPORT_FIELDS])


def _jsonl_lines(rows):
    for row in rows:
        yield json.dumps({field: row[field] for field in EXPORT_FIELDS}, ensure_ascii=False) + "\n"


def _filter_values(params) -> dict:
    return {name: (params.get(name) or "").strip() for name in FILTER_FIELDS}


def _filter_query(params) -> str:
    query = params.copy()
    query.pop("page", None)
    return query.urlencode()


def _display_row(event, project_slugs: dict, pseudonyms: dict) -> dict:
    page_name = PROVENANCE_PAGES.get(event.object_type)
    linkable = page_name and event.object_id.isascii() and event.object_id.isdigit()
    return {
        "event": event,
        "actor": pseudonyms.get(event.actor_id, event.actor_label),
        "actor_pseudonymized": event.actor_id in pseudonyms,
        "object": f"{event.object_type}:{event.object_id}" if event.object_type else event.object_id,
        "object_url": reverse(page_name, args=[int(event.object_id)]) if linkable else "",
        "project": project_slugs.get(event.project_id, event.project_id),
        "payload": payload_fields(event.payload),
    }


def payload_fields(payload) -> list[tuple[str, str]]:
    """The payload as (label, value) pairs for the page: keys in order, values as words, not JSON."""
    if not isinstance(payload, dict):
        return [("value", _readable(payload))]
    return [(str(key).replace("_", " "), _readable(value)) for key, value in sorted(payload.items())]


def _readable(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) and not isinstance(item, bool) for item in value):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)  # nested structures stay exact
