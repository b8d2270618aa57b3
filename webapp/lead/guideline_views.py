"""Data-lead guideline pages: versions and who acknowledged them, the editor with its live
preview, and the diff between two versions. Publishing goes through `guideline_publish`."""
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from webapp.accounts.models import Role
from webapp.accounts.services import user_pseudonym
from webapp.comparisons.models import Judgment
from webapp.core.errors import DomainError, ValidationFailed
from prefkit.rendering import pygments_css, render_markdown
from webapp.core.views import domain_errors_as_pages
from prefkit.diff import diff_blocks, diff_lines, diff_stats
from webapp.guidelines.models import Acknowledgement, GuidelineVersion
from webapp.guidelines.services import (
    MAX_GUIDELINE_CHARS,
    MAX_NOTE_CHARS,
    guideline_publish,
    normalize_guideline_text,
)
from webapp.projects.selectors import project_for_lead, role_of



@login_required
@require_GET
@domain_errors_as_pages
def guideline_versions(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    versions = list(GuidelineVersion.objects.filter(project=project).select_related("author")
                    .defer("body_md").order_by("-number"))
    acks = list(Acknowledgement.objects.filter(version__project=project)
                .select_related("user__profile", "version").order_by("-version__number", "at"))
    show_usernames = role_of(request.user) == Role.ADMIN
    acked = Counter(ack.version_id for ack in acks)
    judged = _judgment_counts(versions)
    for version in versions:
        version.ack_count = acked[version.pk]
        version.live, version.superseded = judged.get(version.pk, (0, 0))
    return render(request, "guidelines/versions.html", {
        "project": project, "versions": versions, "show_usernames": show_usernames,
        "acks": [_person(ack.user, show_usernames) | {"version": ack.version, "at": ack.at} for ack in acks],
        "pending": [_person(user, show_usernames) for user in _raters_pending(project, versions[:1])],
    })


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors_as_pages
def guideline_new(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    current = GuidelineVersion.objects.current_for(project)
    if request.method == "GET":
        return _editor(request, project, current, body=current.body_md if current else "", note="")
    body = normalize_guideline_text(request.POST.get("body_md", ""))
    note = request.POST.get("change_note", "").strip()
    base = request.POST.get("base", "")
    try:
        if not note:  # the page asks for one: raters see it when they are asked to read the new version
            raise ValidationFailed("add a change note: raters see it when they are asked to read the new version",
                                   field="change_note")
        version = guideline_publish(project=project, body_md=body, change_note=note, author=request.user,
                                    based_on=int(base) if base.isdigit() else 0)
    except DomainError as failure:
        # The service's rules are the page's: show its message, keep the text being edited.
        current = GuidelineVersion.objects.current_for(project)
        return _editor(request, project, current, body=body, note=note, error=_sentence(failure.message),
                       stale=failure.field == "based_on", status=400)
    messages.success(request, f"Published v{version.number} sha256 {version.sha256}")
    return redirect("guideline-versions", slug=slug)


@require_POST
def guideline_preview(request, slug):
    """Return {"html": …}: the Markdown rendered by the same sanitizing renderer raters see."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not_authenticated", "detail": "your session ended; log in again"}, status=401)
    try:
        project_for_lead(slug=slug, user=request.user)
    except DomainError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    body = request.POST.get("body_md", "")
    if len(body) > MAX_GUIDELINE_CHARS:
        return JsonResponse({"error": "invalid", "detail": f"the limit is {MAX_GUIDELINE_CHARS} characters"}, status=400)
    return JsonResponse({"html": render_markdown(body)})


@login_required
@require_GET
@domain_errors_as_pages
def guideline_diff(request, slug):
    project = project_for_lead(slug=slug, user=request.user)
    versions = list(GuidelineVersion.objects.filter(project=project).select_related("author")
                    .defer("body_md").order_by("number"))
    if not versions:
        return render(request, "guidelines/diff.html", {"project": project, "versions": []})
    by_number = {version.number: version for version in versions}
    latest = versions[-1].number
    old = _version_param(request.GET, "from", by_number, default=max(latest - 1, 1))
    new = _version_param(request.GET, "to", by_number, default=latest)
    rows = diff_lines(old.body_md, new.body_md)
    return render(request, "guidelines/diff.html", {
        "project": project, "versions": versions, "old": old, "new": new, "heads": [old, new],
        "rows": rows, "stats": diff_stats(rows), "pygments_css": pygments_css(),
        # Each block rendered by the renderer raters see, so the change reads as it will on their page.
        "blocks": [{"kind": block.kind, "html": render_markdown(block.text)}
                   for block in diff_blocks(old.body_md, new.body_md)],
    })


def _editor(request, project, current, *, body, note, error="", stale=False, status=200):
    return render(request, "guidelines/editor.html", {
        "project": project, "current": current, "body": body, "note": note, "error": error, "stale": stale,
        "next_number": current.number + 1 if current else 1, "base": current.number if current else 0,
        "preview_html": render_markdown(body), "pygments_css": pygments_css(),
        "max_note_chars": MAX_NOTE_CHARS,
    }, status=status)


def _sentence(message: str) -> str:
    # Service messages are lower-case fragments (as in the API's "detail"); a page shows sentences.
    starts_with_version = message[:1] == "v" and message[1:2].isdigit()
    first = message[:1] if starts_with_version else message[:1].upper()
    return first + message[1:] + ("" if message.endswith(".") else ".")


def _judgment_counts(versions) -> dict[int, tuple[int, int]]:
    """{version id: (live, superseded)} judgments made under each version, in one query."""
    rows = (Judgment.objects.filter(guideline_version_id__in=[v.pk for v in versions])
            .values("guideline_version_id")
            .annotate(live=Count("id", filter=Q(superseded_by__isnull=True)),
                      superseded=Count("id", filter=Q(superseded_by__isnull=False))))
    return {row["guideline_version_id"]: (row["live"], row["superseded"]) for row in rows}


def _raters_pending(project, current):
    """Raters of the project who have not acknowledged the current version."""
    if not current:
        return []
    return (project.members.filter(profile__role=Role.RATER)
            .exclude(acknowledgements__version=current[0]).select_related("profile").order_by("profile__pseudonym"))


def _person(user, show_username: bool) -> dict:
    # Leads see raters by pseudonym only; admins also see who is behind it.
    return {"pseudonym": user_pseudonym(user),
            "username": user.get_username() if show_username else ""}


def _version_param(params, name: str, by_number: dict, *, default: int) -> GuidelineVersion:
    raw = params.get(name, "")
    try:
        number = int(raw) if raw else default
    except ValueError:
        raise Http404(f"{name}={raw!r} is not a version number") from None
    if number not in by_number:
        raise Http404(f"there is no guideline v{number} in this project")
    return by_number[number]
