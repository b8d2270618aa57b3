"""Label Studio pairwise exports (JSON and JSON_MIN) and labeling configs, as plain records.

No Django here: the webapp maps the records onto comparisons and judgments. Left/right stay
left/right in these records; which response was on the left is the caller's business (a task we
pushed carries our comparison id and its recorded side swap; a foreign task's answer1 is A).
"""
import datetime as dt
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# Strength choices of the config we push; a foreign project's labels map through the same table
# when they match, else the choice is kept in the provenance only.
STRENGTH_LABELS = {"slightly better": 1, "better": 2, "much better": 3}
TIE_LABELS = {"tie", "equal", "same"}


@dataclass(frozen=True)
class Options:
    prompt_key: str = "prompt"        # task data key of the prompt
    left_key: str = "answer1"         # task data key of the response shown on the left
    right_key: str = "answer2"
    pairwise_name: str = "comparison"  # name of the Pairwise control
    strength_name: str = "strength"    # name of the optional Choices control (strength or tie)
    comparison_id_key: str = "wb_comparison_id"  # set on tasks we pushed
    swap_key: str = "wb_swapped"       # true when our response B was shown on the left


class LabelStudioError(ValueError):
    """Input that is not what we can import; the message names the file/task/field."""


@dataclass(frozen=True)
class Annotation:
    ls_project: int | None
    task_id: int
    annotation_id: int
    annotator: str           # Label Studio's user id (or email), as text
    selected: str            # "left" | "right" | "tie"
    strength: int | None
    strength_label: str | None
    lead_time_s: float | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class Task:
    task_id: int
    prompt: str
    left: str
    right: str
    comparison_id: int | None  # ours, when we pushed the task
    swapped: bool | None        # ours, when we pushed the task
    data: dict


@dataclass
class ParsedExport:
    format: str                            # "JSON" | "JSON_MIN"
    tasks: dict[int, Task]
    annotations: list[Annotation]          # one per (task, annotator): the latest
    repeats: list[str] = field(default_factory=list)  # annotations dropped for a later one, explained
    cancelled: int = 0                     # skipped annotations: not judgments


def parse_export(data: bytes, *, name: str, options: Options = Options()) -> ParsedExport:
    try:
        items = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LabelStudioError(f"{name}: not a Label Studio export (not JSON: {error})") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise LabelStudioError(f"{name}: not a Label Studio export (expected a JSON list of tasks)")
    if not items:
        raise LabelStudioError(f"{name}: the export holds no tasks")
    if all("data" in i and "annotations" in i for i in items):
        return _keep_latest(_parse_json(items, name, options), "JSON")
    if all("id" in i and options.prompt_key in i for i in items):
        return _keep_latest(_parse_min(items, name, options), "JSON_MIN")
    raise LabelStudioError(f"{name}: not a Label Studio export (tasks need 'data' and 'annotations', or JSON_MIN "
                           f"rows need 'id' and '{options.prompt_key}')")


def _parse_json(items, name, options):
    tasks, annotations, cancelled = {}, [], 0
    for item in items:
        where = f"{name}: task {item.get('id')!r}"
        task = _task(item.get("id"), item.get("data"), where, options)
        tasks[task.task_id] = task
        for raw in item["annotations"] or []:
            if raw.get("was_cancelled"):
                cancelled += 1
                continue
            annotations.append(_annotation(task.task_id, raw, raw.get("result"), raw.get("completed_by"),
                                           raw.get("project", item.get("project")), f"{where}, annotation "
                                           f"{raw.get('id')!r}", options))
    return tasks, annotations, cancelled


def _parse_min(items, name, options):
    tasks, annotations = {}, []
    for item in items:
        where = f"{name}: task {item.get('id')!r}"
        task = _task(item.get("id"), item, where, options)
        tasks[task.task_id] = task
        if options.pairwise_name not in item:
            continue  # a task nobody annotated
        picked = item[options.pairwise_name]
        result = [{"type": "pairwise", "from_name": options.pairwise_name,
                   "value": picked[0] if isinstance(picked, list) and picked else picked}]
        if options.strength_name in item:
            result.append({"type": "choices", "from_name": options.strength_name,
                           "value": {"choices": [item[options.strength_name]]}})
        annotations.append(_annotation(task.task_id, item, result, item.get("annotator"), None,
                                       f"{where}, annotation {item.get('annotation_id')!r}", options,
                                       id_key="annotation_id"))
    return tasks, annotations, 0


def _task(task_id, data, where, options) -> Task:
    if not isinstance(task_id, int):
        raise LabelStudioError(f"{where}: field 'id' must be the task's integer id")
    if not isinstance(data, dict):
        raise LabelStudioError(f"{where}: field 'data' must be an object")
    texts = {}
    for key in (options.prompt_key, options.left_key, options.right_key):
        value = data.get(key)
        if not isinstance(value, str):
            raise LabelStudioError(f"{where}: field 'data.{key}' is missing or not text "
                                   "(set the data keys with --prompt-key/--left-key/--right-key)")
        texts[key] = value
    comparison_id, swapped = data.get(options.comparison_id_key), data.get(options.swap_key)
    if comparison_id is not None and (not isinstance(comparison_id, int) or not isinstance(swapped, bool)):
        raise LabelStudioError(f"{where}: field 'data.{options.comparison_id_key}' needs an integer id and "
                               f"'data.{options.swap_key}' true/false")
    return Task(task_id=task_id, prompt=texts[options.prompt_key], left=texts[options.left_key],
                right=texts[options.right_key], comparison_id=comparison_id,
                swapped=swapped if comparison_id is not None else None, data=data)


def _annotation(task_id, raw, result, annotator, project, where, options, id_key="id") -> Annotation:
    annotation_id = raw.get(id_key)
    if not isinstance(annotation_id, int):
        raise LabelStudioError(f"{where}: field '{id_key}' must be the annotation's integer id")
    if annotator is None and isinstance(raw.get("wb_rater"), str):
        annotator = raw["wb_rater"]  # a file we exported (see export_task)
    if annotator is None or isinstance(annotator, (list, bool)):
        raise LabelStudioError(f"{where}: no annotator ('completed_by' / 'annotator')")
    if isinstance(annotator, dict):
        annotator = annotator.get("id", annotator.get("email"))
    selected, label = None, None
    for part in result or []:
        if not isinstance(part, dict):
            raise LabelStudioError(f"{where}: field 'result' must hold objects")
        value = part.get("value") or {}
        if part.get("type") == "pairwise" and part.get("from_name") == options.pairwise_name:
            selected = value.get("selected")
        elif part.get("type") == "choices" and part.get("from_name") == options.strength_name:
            choices = value.get("choices") or []
            label = choices[0] if choices else None
    tie = label is not None and label.strip().lower() in TIE_LABELS
    if tie:
        selected = "tie"
    if selected not in ("left", "right", "tie"):
        raise LabelStudioError(f"{where}: field 'result' has no '{options.pairwise_name}' pairwise choice "
                               "(left/right); set the control name with --pairwise-name")
    strength = None if label is None or tie else STRENGTH_LABELS.get(label.strip().lower())
    lead_time = raw.get("lead_time")
    return Annotation(
        ls_project=project if isinstance(project, int) else None, task_id=task_id, annotation_id=annotation_id,
        annotator=str(annotator), selected=selected, strength=strength, strength_label=label,
        lead_time_s=float(lead_time) if isinstance(lead_time, (int, float)) else None,
        created_at=_time(raw.get("created_at"), where, "created_at"),
        updated_at=_time(raw.get("updated_at"), where, "updated_at"),
    )


def _time(value, where, name) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise LabelStudioError(f"{where}: field '{name}' is not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _keep_latest(parsed, export_format) -> ParsedExport:
    """One judgment per annotator and task: the latest annotation (by time, then id); report the rest."""
    tasks, annotations, cancelled = parsed
    latest: dict[tuple[int, str], Annotation] = {}

    def when(a: Annotation):
        return (a.updated_at or a.created_at or dt.datetime.min.replace(tzinfo=dt.UTC), a.annotation_id)

    for item in annotations:
        slot = (item.task_id, item.annotator)
        if slot not in latest or when(item) > when(latest[slot]):
            latest[slot] = item
    kept = {a.annotation_id for a in latest.values()}
    repeats = [f"task {a.task_id}: annotator {a.annotator} has a later annotation "
               f"({latest[(a.task_id, a.annotator)].annotation_id}) than {a.annotation_id}; only the latest is kept"
               for a in annotations if a.annotation_id not in kept]
    return ParsedExport(format=export_format, tasks=tasks,
                        annotations=sorted(latest.values(), key=lambda a: (a.task_id, a.annotation_id)),
                        repeats=repeats, cancelled=cancelled)


def check_config(label_config: str, options: Options = Options()) -> None:
    """A labeling config we can read: it has the pairwise control (by name)."""
    try:
        root = ET.fromstring(label_config)
    except ET.ParseError as error:
        raise LabelStudioError(f"labeling config is not XML: {error}") from None
    names = [el.get("name") for el in root.iter() if el.tag.lower() == "pairwise"]
    if not names:
        raise LabelStudioError("labeling config has no Pairwise control: not a pairwise project")
    if options.pairwise_name not in names:
        raise LabelStudioError(f"labeling config has no Pairwise control named '{options.pairwise_name}' "
                               f"(it has {', '.join(map(repr, names))}); set --pairwise-name")


def pairwise_config(options: Options = Options()) -> str:
    """The labeling config we push: prompt, two responses, the pairwise pick and strength/tie choices."""
    choices = "".join(f'\n    <Choice value="{label}"/>' for label in [*STRENGTH_LABELS, "tie"])
    return (f'<View>\n  <Text name="{options.prompt_key}" value="${options.prompt_key}"/>\n'
            f'  <Pairwise name="{options.pairwise_name}" toName="{options.left_key},{options.right_key}"/>\n'
            f'  <Text name="{options.left_key}" value="${options.left_key}"/>\n'
            f'  <Text name="{options.right_key}" value="${options.right_key}"/>\n'
            f'  <Choices name="{options.strength_name}" toName="{options.prompt_key}" choice="single" '
            f'showInline="true">{choices}\n  </Choices>\n</View>')


@dataclass(frozen=True)
class ExportJudgment:
    judgment_id: int
    rater: str            # pseudonymous id
    choice: str           # "a" | "b" | "tie"
    strength: int | None
    active_ms: int | None
    submitted_at: str     # ISO 8601


def export_task(comparison_id: int, prompt: str, response_a: str, response_b: str,
                judgments: list[ExportJudgment], options: Options = Options()) -> dict:
    """One Label Studio task (JSON export shape, importable by Label Studio) with its annotations.
    Response A is on the left; a tie is the strength control's "tie" without a pairwise pick."""
    labels = {number: label for label, number in STRENGTH_LABELS.items()}
    annotations = []
    for j in judgments:
        result = []
        if j.choice in ("a", "b"):
            result.append({"from_name": options.pairwise_name, "to_name": f"{options.left_key},{options.right_key}",
                           "type": "pairwise", "value": {"selected": "left" if j.choice == "a" else "right"}})
        label = "tie" if j.choice == "tie" else labels.get(j.strength)
        if label:
            result.append({"from_name": options.strength_name, "to_name": options.prompt_key, "type": "choices",
                           "value": {"choices": [label]}})
        # Label Studio refuses a completed_by that is not one of its users (it assigns the importing
        # user), so the rater's pseudonym travels in wb_rater, which our import reads.
        annotations.append({"id": j.judgment_id, "wb_rater": j.rater, "result": result, "was_cancelled": False,
                            "lead_time": j.active_ms / 1000 if j.active_ms is not None else None,
                            "created_at": j.submitted_at, "updated_at": j.submitted_at})
    return {"id": comparison_id, "data": {options.prompt_key: prompt, options.left_key: response_a,
                                          options.right_key: response_b, options.comparison_id_key: comparison_id,
                                          options.swap_key: False},
            "annotations": annotations}
