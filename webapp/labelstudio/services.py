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
    return f"label-studio:{source}"[:200]  # ExternalRater.scope length


def labelstudio_import_file(*, project, data: bytes, name: str, actor, options: Options = Options()) -> ImportResult:
    """Import a Label Studio JSON / JSON_MIN export file into `project`; raises LabelStudioError, writing nothing."""
    parsed = parse_export(data, name=name, options=options)
    ls_projects = {a.ls_project for a in parsed.annotations if a.ls_project is not None}
    source = f"file#{min(ls_projects)}" if len(ls_projects) == 1 else f"file:{name}"
    return labelstudio_store(project=project, parsed=parsed, source=source, origin_name=name, actor=actor)


def labelstudio_store(*, project, parsed: ParsedExport, source: str, origin_name: str, actor,
                      guideline_version=None, pinned_tasks: frozenset = frozenset(), progress=None) -> ImportResult:
    """Store parsed annotations; `guideline_version` pins only the judgments on `pinned_tasks`
    (tasks we pushed under that version)."""
    with transaction.atomic():
        sides, made = _comparisons_for(project, parsed.tasks, origin_name, actor)
        scope = source_scope(source)
        raters = _external_raters(project, scope, {a.annotator for a in parsed.annotations})
        created, existing = _store(parsed.annotations, sides, raters, source=source, project=project,
                                   guideline_version=guideline_version, pinned_tasks=pinned_tasks,
                                   progress=progress)
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


def _store(annotations: list[Annotation], sides, raters, *, source: str, guideline_version, pinned_tasks,
           project, progress=None) -> tuple[int, int]:
    rater_ids = [r.pk for r in raters.values()]
    current = {
        (rid, cid): (jid, key)
        for jid, rid, cid, key in Judgment.objects.filter(
            external_rater_id__in=rater_ids, superseded_by__isnull=True, origin=Judgment.Origin.EXTERNAL,
        ).values_list("id", "external_rater_id", "comparison_id", "idempotency_key")
    }
    now, new, existing = clock.now(), [], 0
    for done, a in enumerate(annotations):
        if progress is not None and done % 200 == 0:
            progress(done, len(annotations), "storing annotations")
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
            guideline_version=guideline_version if a.task_id in pinned_tasks else None, source=f"label-studio:{source}"[:200], choice=choice,
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
    if progress is not None:  # a cancel seen here still rolls the whole pull back
        progress(len(annotations), len(annotations), "annotations stored")
    return len(new), existing


def labelstudio_push(*, project, url: str, token: str, actor, title: str = "", seed: int | None = None,
                     options: Options = Options(), progress=None):
    """Create a Label Studio project from `project`'s comparisons: pairwise config with strength
    choices, the current guideline as instructions, one task per comparison with a recorded random
    side swap. Returns the LabelStudioPush record."""
    import random
    import secrets

    from prefkit.labelstudio import pairwise_config
    from prefkit.rendering import render_markdown
    from webapp.guidelines.models import GuidelineVersion
    from webapp.labelstudio.client import call, connect
    from webapp.labelstudio.models import LabelStudioPush

    version = GuidelineVersion.objects.current_for(project)
    comparisons = list(Comparison.objects.filter(project=project).order_by("id")
                       .values_list("id", "prompt__messages", "response_a__text", "response_b__text"))
    if not comparisons:
        raise LabelStudioError(f"project '{project.slug}' has no comparisons to push")
    rng = random.Random(seed if seed is not None else secrets.randbits(64))
    tasks = []
    for cid, messages, a_text, b_text in comparisons:
        swapped = rng.random() < 0.5
        left, right = (b_text, a_text) if swapped else (a_text, b_text)
        tasks.append({options.prompt_key: _prompt_text(messages), options.left_key: left, options.right_key: right,
                      options.comparison_id_key: cid, options.swap_key: swapped})
    if progress is not None:  # the last point where a cancel leaves nothing behind in Label Studio
        progress(0, len(tasks), "creating the Label Studio project")
    client = connect(url, token)
    created = call(lambda: client.projects.create(
        title=(title or f"{project.name} (workbench)")[:50], label_config=pairwise_config(options),
        expert_instruction=render_markdown(version.body_md) if version else "", show_instruction=True,
    ), url=url, what="creating the project")
    call(lambda: client.projects.import_tasks(id=created.id, request=tasks), url=url, what="importing tasks",
         project_id=created.id)
    mapping = {str(t.id): [t.data[options.comparison_id_key], t.data[options.swap_key]]
               for t in call(lambda: list(client.tasks.list(project=created.id, page_size=100)), url=url,
                             what="listing tasks", project_id=created.id)}
    if progress is not None:
        progress(len(mapping), len(tasks), "tasks created in Label Studio")
    with transaction.atomic():
        push = LabelStudioPush.objects.create(project=project, url=url.rstrip("/"), ls_project_id=created.id,
                                              guideline_version=version, pushed_by=actor, tasks=mapping)
        audit_record(actor=actor, action="labelstudio.pushed", obj=push, project_id=project.pk,
                     payload={"url": push.url, "label_studio_project": created.id, "tasks": len(mapping),
                              "guideline_version": version.number if version else None})
    return push


def _prompt_text(messages: list[dict]) -> str:
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in messages)


def labelstudio_pull(*, project, url: str, token: str, ls_project_id: int, actor,
                     options: Options = Options(), progress=None) -> ImportResult:
    """Pull a live Label Studio project's annotations into `project` (same mapping as the file import).
    Tasks we pushed map through the recorded swap and pin the guideline version we sent; a second
    pull adds only what is new."""
    from prefkit.labelstudio import check_config
    from webapp.labelstudio.client import call, connect
    from webapp.labelstudio.models import LabelStudioPush

    url = url.rstrip("/")
    if progress is not None:
        progress(0, None, "reading the Label Studio project")
    client = connect(url, token)
    remote = call(lambda: client.projects.get(id=ls_project_id), url=url, what="reading the project",
                  project_id=ls_project_id)
    try:
        check_config(remote.label_config or "", options)
    except LabelStudioError as error:
        raise LabelStudioError(f"Label Studio project {ls_project_id} at {url}: {error}") from None
    data = b"".join(call(lambda: list(client.projects.exports.download_sync(id=ls_project_id, export_type="JSON")),
                         url=url, what="exporting", project_id=ls_project_id))
    name = f"{url} project {ls_project_id}"
    if data.strip() in (b"", b"[]"):  # nothing annotated yet
        parsed = ParsedExport(format="JSON", tasks={}, annotations=[])
    else:
        parsed = parse_export(data, name=name, options=options)
    push = LabelStudioPush.objects.filter(url=url, ls_project_id=ls_project_id, project=project).first()
    pinned = set()
    if push is not None:
        for task_id, task in list(parsed.tasks.items()):
            recorded = push.tasks.get(str(task_id))
            if recorded is not None:  # the recorded swap wins over whatever the task data says now
                parsed.tasks[task_id] = Task(task.task_id, task.prompt, task.left, task.right,
                                             comparison_id=recorded[0], swapped=recorded[1], data=task.data)
                pinned.add(task_id)
    return labelstudio_store(project=project, parsed=parsed, source=f"{url}#{ls_project_id}", origin_name=name,
                             actor=actor, guideline_version=push.guideline_version if push else None,
                             pinned_tasks=frozenset(pinned), progress=progress)


def labelstudio_export(*, project, out_path) -> dict:
    """Write `project`'s comparisons with their current judgments (a, b or tie; both-bad has no
    Label Studio equivalent and is counted, not written) as a Label Studio JSON file, atomically."""
    import os
    from pathlib import Path

    from prefkit.labelstudio import ExportJudgment, export_task
    from webapp.accounts.services import user_pseudonym

    out_path = Path(out_path)
    tasks, written, left_out = [], 0, 0
    comparisons = (Comparison.objects.filter(project=project).order_by("id")
                   .select_related("prompt", "response_a", "response_b"))
    for comparison in comparisons.iterator(chunk_size=500):
        current = (Judgment.objects.filter(comparison=comparison, superseded_by__isnull=True, repeat=False)
                   .order_by("id")
                   .select_related("rater__profile", "external_rater"))
        items = []
        for j in current:
            if j.choice == Judgment.Choice.BOTH_BAD:
                left_out += 1
                continue
            rater = user_pseudonym(j.rater) if j.rater_id else j.external_rater.pseudonym
            items.append(ExportJudgment(judgment_id=j.pk, rater=rater, choice=j.choice, strength=j.strength,
                                        active_ms=j.active_ms, submitted_at=j.submitted_at.isoformat()))
        written += len(items)
        tasks.append(export_task(comparison.pk, _prompt_text(comparison.prompt.messages),
                                 comparison.response_a.text, comparison.response_b.text, items))
    partial = out_path.with_name(out_path.name + ".partial")
    partial.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, out_path)
    return {"tasks": len(tasks), "annotations": written, "both_bad_left_out": left_out}
