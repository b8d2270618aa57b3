"""Label Studio annotations become judgments made elsewhere (origin "external"): one concept with
imported judgments (see the README's architecture section), no second one.

- Tasks we pushed carry our comparison id and the recorded side swap; other tasks become (or find)
  comparisons by content, with answer1/left as response A unless an existing comparison holds the
  two responses the other way round.
- Annotators become ExternalRaters scoped to the Label Studio source (the project, or the file's
  project id): pseudonymous, never logins.
- No guideline version of ours is assumed (the provenance page says "made elsewhere, guideline
  unknown").
- All or nothing; re-importing adds nothing (the annotation id and its update time are the
  judgment's idempotency key); a later annotation of the same annotator on the same task
  supersedes the earlier judgment (judgments stay append-only).
"""
import json
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from prefkit.labelstudio import Annotation, LabelStudioError, Options, ParsedExport, Task, parse_export
from webapp.accounts.services import pseudonym_for
from webapp.audit.services import audit_record
from webapp.comparisons.imports import import_file
from webapp.comparisons.models import Comparison, ExternalRater, Judgment
from webapp.core import clock


@dataclass(frozen=True)
class ImportResult:
    format: str
    tasks: int
    annotations: int
    created: int
    already_present: int
    cancelled: int
    repeats: list[str]
    comparisons_created: int


def source_scope(source: str) -> str:
    return f"label-studio:{source}"


def labelstudio_import_file(*, project, data: bytes, name: str, actor, options: Options = Options()) -> ImportResult:
    """Import a Label Studio JSON / JSON_MIN export file into `project`; raises LabelStudioError, writing nothing."""
    parsed = parse_export(data, name=name, options=options)
    ls_projects = {a.ls_project for a in parsed.annotations if a.ls_project is not None}
    source = f"file#{min(ls_projects)}" if len(ls_projects) == 1 else f"file:{name}"
    return labelstudio_store(project=project, parsed=parsed, source=source, origin_name=name, actor=actor)


def labelstudio_store(*, project, parsed: ParsedExport, source: str, origin_name: str, actor,
                      guideline_version=None) -> ImportResult:
    with transaction.atomic():
        sides, made = _comparisons_for(project, parsed.tasks, origin_name, actor)
        scope = source_scope(source)
        raters = _external_raters(project, scope, {a.annotator for a in parsed.annotations})
        created, existing = _store(parsed.annotations, sides, raters, source=source,
                                   guideline_version=guideline_version, project=project)
        result = ImportResult(format=parsed.format, tasks=len(parsed.tasks), annotations=len(parsed.annotations),
                              created=created, already_present=existing, cancelled=parsed.cancelled,
                              repeats=parsed.repeats, comparisons_created=made)
        audit_record(actor=actor, action="labelstudio.imported", obj=project, project_id=project.pk,
                     payload={"source": source, "name": origin_name, "format": parsed.format,
                              "tasks": result.tasks, "annotations": result.annotations, "created": created,
                              "already_present": existing, "cancelled": parsed.cancelled,
                              "repeats": len(parsed.repeats), "comparisons_created": made})
    return result


def _comparisons_for(project, tasks: dict[int, Task], origin_name: str, actor) -> tuple[dict[int, tuple[int, bool]], int]:
    """task id -> (comparison id, left is A). Tasks we pushed name their comparison; the others are
    imported as comparisons (deduplicated by content) and found by their texts."""
    sides: dict[int, tuple[int, bool]] = {}
    ours = {t.task_id: t for t in tasks.values() if t.comparison_id is not None}
    known = set(Comparison.objects.filter(project=project, pk__in=[t.comparison_id for t in ours.values()])
                .values_list("pk", flat=True))
    for task in ours.values():
        if task.comparison_id not in known:
            raise LabelStudioError(f"{origin_name}: task {task.task_id}: field 'data.wb_comparison_id': "
                                   f"comparison {task.comparison_id} is not in project '{project.slug}'")
        sides[task.task_id] = (task.comparison_id, not task.swapped)
    foreign = [t for t in tasks.values() if t.comparison_id is None]
    made = 0
    if foreign:
        lines = [json.dumps({"prompt": [{"role": "user", "content": t.prompt}], "response_a": {"text": t.left},
                             "response_b": {"text": t.right}, "id": f"label-studio-task-{t.task_id}"})
                 for t in foreign]
        batch = import_file(project=project, data=("\n".join(lines) + "\n").encode(),
                            file_name=f"{origin_name} (Label Studio tasks)"[:255], actor=actor)
        made = batch.created_count
        for task in foreign:
            sides[task.task_id] = _find_by_content(project, task)
    return sides, made


def _find_by_content(project, task: Task) -> tuple[int, bool]:
    messages = [{"role": "user", "content": task.prompt}]
    for cid, a_text, b_text, prompt_messages in (
        Comparison.objects.filter(project=project, response_a__text__in=[task.left, task.right],
                                  response_b__text__in=[task.left, task.right])
        .values_list("id", "response_a__text", "response_b__text", "prompt__messages")
    ):
        if prompt_messages == messages and {a_text, b_text} == {task.left, task.right}:
            return cid, a_text == task.left
    raise LabelStudioError(f"task {task.task_id}: no comparison of project '{project.slug}' holds its prompt "
                           "and responses")


def _external_raters(project, scope: str, ids: set[str]) -> dict[str, ExternalRater]:
    found = {r.external_id: r for r in ExternalRater.objects.filter(project=project, scope=scope, external_id__in=ids)}
    missing = [ExternalRater(project=project, scope=scope, external_id=i,
                             pseudonym=pseudonym_for(f"external:{project.pk}:{scope}:{i}"))
               for i in sorted(ids - set(found))]
    for rater in ExternalRater.objects.bulk_create(missing):
        found[rater.external_id] = rater
    return found


def _key(source: str, a: Annotation) -> str:
    stamp = (a.updated_at or a.created_at).isoformat() if (a.updated_at or a.created_at) else ""
    return f"ls:{a.annotation_id}:{stamp}"[:100]


def _store(annotations: list[Annotation], sides, raters, *, source: str, guideline_version, project) -> tuple[int, int]:
    rater_ids = [r.pk for r in raters.values()]
    current = {
        (rid, cid): (jid, key)
        for jid, rid, cid, key in Judgment.objects.filter(
            external_rater_id__in=rater_ids, superseded_by__isnull=True, origin=Judgment.Origin.EXTERNAL,
        ).values_list("id", "external_rater_id", "comparison_id", "idempotency_key")
    }
    now, new, existing = clock.now(), [], 0
    for a in annotations:
        comparison_id, left_is_a = sides[a.task_id]
        rater = raters[a.annotator]
        key = _key(source, a)
        earlier = current.get((rater.pk, comparison_id))
        if earlier is not None and earlier[1] == key:
            existing += 1
            continue
        if a.selected == "tie":
            choice = Judgment.Choice.TIE
        else:
            choice = Judgment.Choice.A if (a.selected == "left") == left_is_a else Judgment.Choice.B
        new.append(Judgment(
            origin=Judgment.Origin.EXTERNAL, comparison_id=comparison_id, external_rater=rater,
            guideline_version=guideline_version, source=f"label-studio:{source}"[:200], choice=choice,
            choice_displayed=a.selected, display_order="AB" if left_is_a else "BA", strength=a.strength,
            active_ms=round(a.lead_time_s * 1000) if a.lead_time_s is not None else None,
            submitted_at=a.updated_at or a.created_at or now, idempotency_key=key,
            supersedes_id=earlier[0] if earlier else None,
            external={"tool": "label-studio", "source": source, "label_studio_project": a.ls_project,
                      "task_id": a.task_id, "annotation_id": a.annotation_id, "annotator_id": a.annotator,
                      "lead_time_s": a.lead_time_s, "strength_label": a.strength_label,
                      "created_at": a.created_at.isoformat() if a.created_at else None,
                      "updated_at": a.updated_at.isoformat() if a.updated_at else None},
        ))
        current[(rater.pk, comparison_id)] = (None, key)
    Judgment.objects.bulk_create(new)
    if project.overlap_counts_external:
        for comparison_id, count in sorted(Counter(j.comparison_id for j in new if j.supersedes_id is None).items()):
            Comparison.objects.filter(pk=comparison_id).update(taken=F("taken") + count, judged=F("judged") + count)
    return len(new), existing
