"""What a model's diagnostics read: its held-out comparisons (by the rule below), their human
votes and texts as arrays and pairs, and the finished reports of a model.

Held-out rule (the first that applies):
1. `export_test_split`: the model learned from an export with a test split: the comparisons of that
   split (its rows carry `comparison_id`) that have a current judgment.
2. `judged_not_in_training`: otherwise, the project's judged comparisons whose prompt is not in
   the training split (exports split by prompt, so a prompt's other pairs would leak).
3. `all_judged_training_unknown`: the training data carries no comparison ids (a dataset from
   elsewhere): every judged comparison, with a warning in the report.
Probe comparisons (metadata.probe) are never held-out items. The votes are every current (not
superseded) judgment of the comparison, of any origin.
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from exporters.formats import SCHEMAS, Rows
from exporters.records import ComparisonRecord
from prefkit import diagnostics as dg
from rm_training.data import DatasetError, Pair, row_to_pair, split_comparison_ids
from webapp.comparisons.models import Comparison
from webapp.core.errors import NotFound, ValidationFailed
from webapp.diagnostics.selectors import CHOICE_CODE, PROBE_KEY, Selection, judgments
from webapp.exports.services import export_dir
from webapp.runs.models import Job
from webapp.training.models import RewardModel

MODEL_DIAGNOSTICS_JOB_KIND = "model_diagnostics"
TEST_SPLIT, NOT_IN_TRAINING, TRAINING_UNKNOWN = "export_test_split", "judged_not_in_training", "all_judged_training_unknown"
RULES = {
    TEST_SPLIT: "the test split of export {export}: its comparisons that have judgments",
    NOT_IN_TRAINING: "the project's judged comparisons whose prompt is not in the training split",
    TRAINING_UNKNOWN: "every judged comparison of the project",
}
UNKNOWN_TRAINING_WARNING = ("the model's training data has no comparison ids, so comparisons it trained on cannot be "
                            "told apart: these figures may include training items and overstate accuracy")
CHUNK = 500  # ids per IN (...) query: well under SQLite's bound on parameters


@dataclass
class HeldOut:
    rule: str
    comparison_ids: list[int]
    export_id: int | None = None
    description: str = ""
    warnings: list[str] = field(default_factory=list)


def model_in_project(model_id, project) -> RewardModel:
    """The reward model `model_id` of `project`; NotFound for an unknown id or another project's model."""
    try:
        model_id = int(model_id)
    except (TypeError, ValueError):
        raise ValidationFailed(f"model must be a reward model id; got {model_id!r}", field="model") from None
    model = RewardModel.objects.select_related("project", "export_job", "job").filter(pk=model_id).first()
    if model is None:
        raise NotFound(f"no reward model {model_id}")
    if model.project_id != project.pk:
        where = f"project {model.project.slug}" if model.project else "no project"
        raise NotFound(f"reward model {model_id} is not a model of project {project.slug} (it belongs to {where})")
    return model


def training_data(model: RewardModel) -> Path:
    data = export_dir(model.export_job) if model.export_job else Path(model.dataset)
    if not data.exists():
        raise ValidationFailed(f"the data reward model {model.pk} was trained on is no longer on the server ({data}): "
                               f"evaluate it on a file of pairs instead", field="pairs")
    return data


def _judged(project) -> dict[int, int]:
    """Comparison id -> prompt id of the project's comparisons with a current judgment (no probes)."""
    judged = set(judgments(project, Selection()).order_by().values_list("comparison_id", flat=True).distinct())
    rows = (Comparison.objects.filter(project=project).exclude(metadata__has_key=PROBE_KEY)
            .order_by("id").values_list("id", "prompt_id"))
    return {cid: prompt for cid, prompt in rows.iterator(chunk_size=10_000) if cid in judged}


def held_out_for(model: RewardModel) -> HeldOut:
    """The comparisons the model is evaluated on, by the rule in this module's docstring."""
    if model.project is None:
        raise ValidationFailed(f"reward model {model.pk} is not listed under a project, so it has no held-out "
                               f"comparisons: evaluate it on a file of pairs", field="pairs")
    try:
        splits = split_comparison_ids(training_data(model))
    except DatasetError as error:
        raise ValidationFailed(str(error), field="pairs") from None
    judged = _judged(model.project)
    export_id = model.export_job_id
    if splits.get("test"):
        test = set(splits["test"])
        return HeldOut(TEST_SPLIT, [c for c in judged if c in test], export_id,
                       RULES[TEST_SPLIT].format(export=export_id))
    if splits.get("train") is not None:
        trained = set(splits["train"])
        trained_prompts = _prompts_of(model.project, trained)
        return HeldOut(NOT_IN_TRAINING, [c for c, p in judged.items() if p not in trained_prompts and c not in trained],
                       export_id, RULES[NOT_IN_TRAINING])
    return HeldOut(TRAINING_UNKNOWN, list(judged), export_id, RULES[TRAINING_UNKNOWN], [UNKNOWN_TRAINING_WARNING])


def _prompts_of(project, comparison_ids: set[int]) -> set[int]:
    rows = Comparison.objects.filter(project=project).values_list("id", "prompt_id").iterator(chunk_size=10_000)
    return {prompt for cid, prompt in rows if cid in comparison_ids}


@dataclass
class HeldOutData:
    """The held-out comparisons in one order: pairs to score and the arrays prefkit reads."""
    comparison_ids: np.ndarray
    pairs: list[Pair]
    counts: np.ndarray                 # (n, 4) votes a, b, tie, both_bad
    version_counts: dict[str, np.ndarray]
    len_a: np.ndarray
    len_b: np.ndarray
    source: np.ndarray


def _comparison_rows(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        yield from (Comparison.objects.filter(pk__in=chunk).order_by("id")
                    .values_list("id", "prompt__messages", "prompt__source", "response_a__text", "response_b__text"))


def comparison_pair(fmt: str, comparison_id: int, messages: list, text_a: str, text_b: str) -> Pair:
    """The comparison as the model saw its training pairs: A as chosen, B as rejected, rendered by the
    exporters in the export's format and read back by rm_training (the same text, byte for byte)."""
    record = ComparisonRecord(comparison_id=comparison_id, prompt_id=0, prompt_messages=messages,
                              response_a=text_a, response_b=text_b, model_a="", model_b="", gold="",
                              is_quiz=False, source="", round=1)
    row = Rows(fmt, record).preference("a", 0.0, 1.0, [])
    pair, _ = row_to_pair(dict(zip(SCHEMAS[fmt].names, row)), f"comparison {comparison_id}")
    return pair


def held_out_data(model: RewardModel, held_out: HeldOut) -> HeldOutData:
    fmt = (model.export_job.params.get("request") or {}).get("format") if model.export_job else None
    fmt = fmt if fmt in SCHEMAS and fmt != "raw" else "trl-standard"
    ids = sorted(held_out.comparison_ids)
    pairs, len_a, len_b, source = [], [], [], []
    for cid, messages, src, text_a, text_b in _comparison_rows(ids):
        pairs.append(comparison_pair(fmt, cid, messages, text_a, text_b))
        len_a.append(len(text_a))
        len_b.append(len(text_b))
        source.append(src or "")
    comparison_ids = np.asarray(ids, dtype=np.int64)
    counts, version_counts = _votes(model.project, comparison_ids)
    return HeldOutData(comparison_ids, pairs, counts, version_counts, np.asarray(len_a, dtype=np.int64),
                       np.asarray(len_b, dtype=np.int64), np.asarray(source, dtype=object))


def _votes(project, comparison_ids: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Vote counts per held-out comparison (sorted ids), overall and per guideline version
    ("unknown": made elsewhere, version not recorded)."""
    n = len(comparison_ids)
    counts, version_counts = np.zeros((n, dg.N_CHOICES)), {}
    if n == 0:
        return counts, version_counts
    rows = judgments(project, Selection()).order_by().values_list("comparison_id", "choice", "guideline_version__number")
    comp, code, version = [], [], []
    for cid, choice, number in rows.iterator(chunk_size=50_000):
        comp.append(cid)
        code.append(CHOICE_CODE[choice])
        version.append("unknown" if number is None else f"v{number}")
    comp, code, version = np.asarray(comp, dtype=np.int64), np.asarray(code, dtype=np.int64), np.asarray(version)
    pos = np.minimum(np.searchsorted(comparison_ids, comp), n - 1)
    inside = comparison_ids[pos] == comp
    np.add.at(counts, (pos[inside], code[inside]), 1)
    for label in np.unique(version[inside]).tolist():
        mask = inside & (version == label)
        version_counts[label] = np.zeros((n, dg.N_CHOICES))
        np.add.at(version_counts[label], (pos[mask], code[mask]), 1)
    return counts, version_counts


def report_jobs(model: RewardModel):
    return Job.objects.filter(kind=MODEL_DIAGNOSTICS_JOB_KIND, params__model_id=model.pk)


def latest_report_job(model: RewardModel) -> Job | None:
    return report_jobs(model).filter(state=Job.State.SUCCEEDED).order_by("-finished_at", "-pk").first()


def report_job(model: RewardModel, job_id) -> Job:
    """A finished diagnostics job of `model` (NotFound otherwise)."""
    try:
        job = report_jobs(model).filter(pk=int(job_id), state=Job.State.SUCCEEDED).first()
    except (TypeError, ValueError):
        job = None
    if job is None or "report" not in job.result:
        raise NotFound(f"no finished diagnostics job {job_id} of reward model {model.pk}")
    return job


def models_with_reports(project, *, exclude: RewardModel | None = None) -> list[RewardModel]:
    """The project's models that have a finished diagnostics report (what "compare with" offers)."""
    with_report = set(Job.objects.filter(project=project, kind=MODEL_DIAGNOSTICS_JOB_KIND, state=Job.State.SUCCEEDED)
                      .values_list("params__model_id", flat=True))
    return [m for m in RewardModel.objects.filter(project=project).order_by("-pk")
            if m.pk in with_report and (exclude is None or m.pk != exclude.pk)]
