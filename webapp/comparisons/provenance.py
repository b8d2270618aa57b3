"""Provenance of a judgment or comparison: where every part came from, as plain dataclasses.

The dataclasses carry no model instances, so a template cannot reach a rater's user row:
leads get the stable pseudonym and nothing else; only admins get the username.
"""
import datetime as dt
import json
from dataclasses import dataclass

from webapp.accounts.models import Role
from webapp.accounts.services import user_pseudonym
from webapp.comparisons.models import Comparison, ImportBatch, Judgment, Response
from webapp.core.errors import NotFound
from prefkit.rendering import render_markdown
from webapp.guidelines.models import GuidelineVersion, body_sha256
from webapp.projects.selectors import projects_visible_to, role_of

_COMPARISON_RELATED_FROM_JUDGMENT = (
    "comparison__project", "comparison__batch__imported_by", "comparison__prompt",
    "comparison__response_a", "comparison__response_b",
)


@dataclass(frozen=True)
class RaterView:
    label: str  # username for admins, pseudonym for leads
    pseudonym: str
    is_pseudonym: bool


@dataclass(frozen=True)
class BatchFacts:
    id: int
    file_name: str
    sha256: str
    size_bytes: int
    format: str
    status: str
    imported_by: str
    requested_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    kind: str = "comparisons"  # or "judgments"
    skip_invalid: bool = False
    counts: tuple[tuple[str, int], ...] = ()  # (label, count) of the import report
    rejects: tuple[dict, ...] = ()  # [{line, field, reason}], capped at what the batch stored
    notes: tuple[dict, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class ResponseFacts:
    id: int
    side: str  # "A" or "B": the canonical side, whatever the rater saw
    model_name: str
    generation_json: str  # generation metadata as imported, pretty JSON
    content_hash: str
    html: str  # sanitized at import (prefkit.rendering)
    shown_left: bool | None = None  # None on the comparison page: each rater saw their own order


@dataclass(frozen=True)
class ComparisonFacts:
    id: int
    project_slug: str
    project_name: str
    external_id: str
    gold: str
    content_hash: str
    metadata_json: str
    created_at: dt.datetime
    judged: int
    overlap: int
    prompt_id: int
    prompt_turns: list  # [{role, html}], sanitized at import
    prompt_source: str
    prompt_metadata_json: str
    responses: tuple[ResponseFacts, ResponseFacts]
    batch: BatchFacts


@dataclass(frozen=True)
class GuidelineFacts:
    id: int
    number: int
    sha256: str
    text_matches_sha256: bool
    html: str
    change_note: str
    published_at: dt.datetime


@dataclass(frozen=True)
class JudgmentRow:
    id: int
    rater: RaterView
    choice: str
    choice_displayed: str
    strength: int | None
    guideline_number: int | None  # None: made elsewhere, guideline unknown
    submitted_at: dt.datetime
    supersedes_id: int | None
    superseded_by_id: int | None
    round: int | None  # None: made elsewhere, outside our rounds
    requeued: bool  # made in an earlier round: the pair was re-queued under a newer guideline since
    origin: str = "here"


@dataclass(frozen=True)
class JudgmentProvenance:
    id: int
    rater: RaterView
    viewer_is_admin: bool
    assignment_id: int | None  # None: made elsewhere (no assignment, no lease)
    seed: int | None
    display_order: str  # "AB": A was shown on the left; "": unknown (made elsewhere)
    left_side: str | None
    choice: str
    choice_displayed: str
    strength: int | None
    strength_label: str
    rationale: str
    flags: list[str]  # human labels
    served_at: dt.datetime | None
    submitted_at: dt.datetime
    active_ms: int | None
    supersedes_id: int | None
    superseded_by_id: int | None
    guideline: GuidelineFacts | None  # None: made elsewhere, guideline unknown
    comparison: ComparisonFacts
    origin: str = "here"
    origin_label: str = ""
    source: str = ""
    import_batch: BatchFacts | None = None  # the judgments file it came from
    external_json: str = ""  # provenance recorded by the other tool or file
    repeat_of_assignment_id: int | None = None  # a consistency re-serve: the rater's first assignment of the pair


@dataclass(frozen=True)
class ComparisonProvenance:
    comparison: ComparisonFacts
    judgments: list[JudgmentRow]
    viewer_is_admin: bool


def judgment_provenance(*, judgment_id: int, viewer) -> JudgmentProvenance:
    """Return the provenance of one judgment; NotFound unless `viewer` is an admin or its project's lead."""
    is_admin = _check_viewer(viewer)
    judgment = (
        Judgment.objects.filter(pk=judgment_id, comparison__project__in=projects_visible_to(viewer))
        .select_related(*_COMPARISON_RELATED_FROM_JUDGMENT, "rater__profile", "guideline_version", "assignment",
                        "superseded_by", "external_rater", "import_batch__imported_by")
        .defer("comparison__batch__upload", "import_batch__upload")
        .first()
    )
    if judgment is None:
        raise NotFound("no such judgment in your projects")
    spec_labels = dict(judgment.comparison.project.scale_spec.strengths)
    left_side = {"AB": "A", "BA": "B"}.get(judgment.display_order)
    superseded_by = getattr(judgment, "superseded_by", None)
    return JudgmentProvenance(
        id=judgment.pk, rater=_judge_view(judgment, is_admin), viewer_is_admin=is_admin,
        assignment_id=judgment.assignment_id, seed=judgment.assignment.seed if judgment.assignment else None,
        display_order=judgment.display_order, left_side=left_side,
        choice=judgment.choice, choice_displayed=judgment.choice_displayed,
        strength=judgment.strength, strength_label=spec_labels.get(judgment.strength, ""),
        rationale=judgment.rationale, flags=[_flag_label(flag) for flag in judgment.flags],
        served_at=judgment.served_at, submitted_at=judgment.submitted_at, active_ms=judgment.active_ms,
        supersedes_id=judgment.supersedes_id, superseded_by_id=superseded_by.pk if superseded_by else None,
        guideline=_guideline_facts(judgment.guideline_version) if judgment.guideline_version else None,
        comparison=_comparison_facts(judgment.comparison, left_side=left_side),
        origin=judgment.origin, origin_label=Judgment.Origin(judgment.origin).label, source=judgment.source,
        import_batch=_batch_facts(judgment.import_batch) if judgment.import_batch else None,
        external_json=_json(judgment.external),
        repeat_of_assignment_id=judgment.assignment.repeat_of_id if judgment.assignment else None,
    )


def comparison_provenance(*, comparison_id: int, viewer) -> ComparisonProvenance:
    """Return a comparison, its batch and its judgments; NotFound unless `viewer` is an admin or its project's lead."""
    is_admin = _check_viewer(viewer)
    comparison = (
        Comparison.objects.filter(pk=comparison_id, project__in=projects_visible_to(viewer))
        .select_related("project", "batch__imported_by", "prompt", "response_a", "response_b")
        .defer("batch__upload")
        .first()
    )
    if comparison is None:
        raise NotFound("no such comparison in your projects")
    judgments = (Judgment.objects.filter(comparison=comparison)
                 .select_related("rater__profile", "guideline_version", "superseded_by", "assignment", "external_rater")
                 .order_by("submitted_at", "id"))
    return ComparisonProvenance(
        comparison=_comparison_facts(comparison, left_side=None),
        judgments=[_judgment_row(j, is_admin, current_round=comparison.round) for j in judgments],
        viewer_is_admin=is_admin,
    )


def _check_viewer(viewer) -> bool:
    # Raters get the same answer as for a missing row: they never see other raters' work.
    role = role_of(viewer)
    if role not in (Role.LEAD, Role.ADMIN):
        raise NotFound("provenance pages are for data leads and admins")
    return role == Role.ADMIN


def _judge_view(judgment: Judgment, is_admin: bool) -> RaterView:
    """Who made the judgment: a rater account here, or an external rater (a pseudonym scoped to its origin)."""
    if judgment.rater_id is not None:
        return _rater_view(judgment.rater, is_admin)
    external = judgment.external_rater
    label = f"{external.external_id} ({external.scope})" if is_admin else external.pseudonym
    return RaterView(label=label, pseudonym=external.pseudonym, is_pseudonym=not is_admin)


def _rater_view(user, is_admin: bool) -> RaterView:
    pseudonym = user_pseudonym(user)
    return RaterView(label=user.get_username() if is_admin else pseudonym, pseudonym=pseudonym,
                     is_pseudonym=not is_admin)


def _json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) if value else ""


def _flag_label(flag: str) -> str:
    return Judgment.Flag(flag).label if flag in Judgment.Flag.values else flag


def _guideline_facts(version: GuidelineVersion) -> GuidelineFacts:
    return GuidelineFacts(
        id=version.pk, number=version.number, sha256=version.sha256,
        text_matches_sha256=body_sha256(version.body_md) == version.sha256,
        html=render_markdown(version.body_md), change_note=version.change_note, published_at=version.published_at,
    )


def _batch_facts(batch: ImportBatch) -> BatchFacts:
    return BatchFacts(
        id=batch.pk, file_name=batch.file_name, sha256=batch.sha256, size_bytes=batch.size_bytes,
        format=batch.format, status=batch.status,
        imported_by=batch.imported_by.get_username() if batch.imported_by else "",
        requested_at=batch.requested_at, started_at=batch.started_at, finished_at=batch.finished_at,
        kind=batch.kind, skip_invalid=batch.skip_invalid, counts=_batch_counts(batch),
        rejects=tuple(batch.rejects or ()), notes=tuple(batch.notes or ()), error=batch.error,
    )


def _batch_counts(batch: ImportBatch) -> tuple[tuple[str, int], ...]:
    things = "judgments" if batch.kind == ImportBatch.Kind.JUDGMENTS else "comparisons"
    counts = [("records read", batch.read_count), (f"new {things}", batch.created_count),
              ("already present", batch.existing_count), ("rejected (invalid)", batch.rejected_count)]
    if batch.kind == ImportBatch.Kind.JUDGMENTS:
        counts.append(("left out: a later row of the same rater and comparison", batch.duplicate_count))
    else:
        counts += [("repeated within the file", batch.duplicate_count),
                   ("with an empty assistant turn (kept)", batch.empty_turn_count)]
    return tuple(counts)


def batch_provenance(*, batch_id: int, viewer) -> tuple[BatchFacts, str]:
    """Return (the import batch's facts and report, its project's slug); NotFound unless `viewer` may see it."""
    _check_viewer(viewer)
    batch = (ImportBatch.objects.filter(pk=batch_id, project__in=projects_visible_to(viewer))
             .select_related("project", "imported_by", "job").defer("upload").first())
    if batch is None:
        raise NotFound("no such import in your projects")
    return _batch_facts(batch), batch.project.slug


def batch_judgments(*, batch_id: int, limit: int = 50) -> list[tuple[int, int, str, str]]:
    """The first judgments a judgments import stored: (judgment id, comparison id, rater pseudonym, choice)."""
    return list(Judgment.objects.filter(import_batch_id=batch_id).order_by("id")
                .values_list("id", "comparison_id", "external_rater__pseudonym", "choice")[:limit])


def _response_facts(response: Response, side: str, left_side: str | None) -> ResponseFacts:
    return ResponseFacts(
        id=response.pk, side=side, model_name=response.model_name, generation_json=_json(response.generation),
        content_hash=response.content_hash, html=response.html,
        shown_left=None if left_side is None else side == left_side,
    )


def _comparison_facts(comparison: Comparison, *, left_side: str | None) -> ComparisonFacts:
    prompt, project = comparison.prompt, comparison.project
    return ComparisonFacts(
        id=comparison.pk, project_slug=project.slug, project_name=project.name,
        external_id=comparison.external_id, gold=comparison.gold, content_hash=comparison.content_hash,
        metadata_json=_json(comparison.metadata), created_at=comparison.created_at, judged=comparison.judged,
        overlap=project.overlap, prompt_id=prompt.pk, prompt_turns=list(prompt.messages_html),
        prompt_source=prompt.source, prompt_metadata_json=_json(prompt.metadata),
        responses=(_response_facts(comparison.response_a, "A", left_side),
                   _response_facts(comparison.response_b, "B", left_side)),
        batch=_batch_facts(comparison.batch),
    )


def _judgment_row(judgment: Judgment, is_admin: bool, *, current_round: int) -> JudgmentRow:
    superseded_by = getattr(judgment, "superseded_by", None)
    return JudgmentRow(
        id=judgment.pk, rater=_judge_view(judgment, is_admin), choice=judgment.choice,
        choice_displayed=judgment.choice_displayed, strength=judgment.strength,
        guideline_number=judgment.guideline_version.number if judgment.guideline_version else None,
        submitted_at=judgment.submitted_at,
        supersedes_id=judgment.supersedes_id, superseded_by_id=superseded_by.pk if superseded_by else None,
        round=judgment.assignment.round if judgment.assignment else None,
        requeued=judgment.assignment is not None and judgment.assignment.round < current_round,
        origin=judgment.origin,
    )
