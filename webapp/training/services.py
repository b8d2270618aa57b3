"""Training and scoring reward models as jobs (rm_training does the work; this is the glue).

Every request is checked before a job is queued (the export, the pairs, the base model, the max
length, the output folder), so bad input shows in the form or the command, not minutes later; the
job checks again before its first step. A run leaves either a complete model folder registered as a
RewardModel, or nothing: cancel and failure remove the folder, its partial and its checkpoints. A
worker killed mid-run leaves its checkpoints, and the sweeper's retry resumes from the last one.
"""
import json
import math
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction

from rm_training.checks import BaseModelError, check_base_model
from rm_training.config import TrainConfig, default_base_model
from rm_training.data import DatasetError, load_pairs
from webapp.accounts.models import Role
from webapp.core import clock
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.exports.services import EXPORT_JOB_KIND, code_version, export_dir
from webapp.projects.selectors import role_of
from webapp.runs.models import Job
from webapp.runs.services import ArtifactFile, JobOutcome, job_create, written_by
from webapp.training.models import RewardModel, TrainingLog

TRAINING_JOB_KIND = "training"
SCORING_JOB_KIND = "scoring"

# The form, the API and the command share these names; each maps to a TrainConfig field.
CONFIG_FIELDS = {
    "base_model": str, "max_length": int, "batch_size": int, "learning_rate": float, "epochs": float,
    "max_steps": int, "seed": int, "use_margin": bool, "eval_fraction": float, "save_steps": int,
}
LIMITS = {"max_length": (8, None), "batch_size": (1, 4096), "learning_rate": (0.0, 1.0), "epochs": (0.0, 1000.0),
          "max_steps": (1, None), "save_steps": (1, None), "seed": (0, 2**31 - 1), "eval_fraction": (0.0, 0.9)}
LOGGED = ("loss", "eval_loss", "eval_accuracy", "learning_rate", "grad_norm", "epoch", "accuracy", "margin")


def _check_lead(actor, what: str) -> None:
    # actor None: the operator at the server's command line, who can read the models anyway.
    if actor is not None and role_of(actor) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden(f"only data leads and admins can {what}")


# ---------------------------------------------------------------- training: the request

def parse_config(values: dict) -> dict:
    """Read the training settings (strings from a form or typed values); raise ValidationFailed naming the field."""
    config = {}
    for name, kind in CONFIG_FIELDS.items():
        value = values.get(name)
        if value is None or value == "":
            continue
        config[name] = _typed(name, value, kind)
    for name, (low, high) in LIMITS.items():
        if name in config and (config[name] < low or (high is not None and config[name] > high)
                               or (name in ("learning_rate", "epochs") and config[name] <= 0)):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValidationFailed(f"{name} must be {bound}{' and above 0' if name in ('learning_rate', 'epochs') else ''}; "
                                   f"got {config[name]}", field=name)
    config.setdefault("base_model", default_base_model())
    return config


def _typed(name: str, value, kind):
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "on", "yes"):
            return True
        if str(value).lower() in ("0", "false", "off", "no"):
            return False
        raise ValidationFailed(f"{name} must be true or false; got {value!r}", field=name)
    if kind is str:
        return str(value).strip()
    if isinstance(value, bool):
        raise ValidationFailed(f"{name} must be a number; got {value!r}", field=name)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{name} must be a {'whole ' if kind is int else ''}number; got {value!r}",
                               field=name) from None
    if kind is float and not math.isfinite(number):
        raise ValidationFailed(f"{name} must be a finite number; got {value!r}", field=name)
    return number


def export_for_training(export_id, *, project) -> Job:
    """The succeeded TRL-format export `export_id` of `project` (any project when None)."""
    try:
        export_id = int(export_id)
    except (TypeError, ValueError):
        raise ValidationFailed(f"export must be an export job id; got {export_id!r}", field="export") from None
    export = Job.objects.filter(pk=export_id, kind=EXPORT_JOB_KIND).select_related("project").first()
    if export is None or (project is not None and export.project_id != project.pk):
        where = f" of project {project.slug}" if project is not None else ""
        raise ValidationFailed(f"there is no export {export_id}{where}", field="export")
    if export.state != Job.State.SUCCEEDED:
        raise ValidationFailed(f"export {export_id} has {export.state}, not succeeded: train on a finished export",
                               field="export")
    export_format = (export.params.get("request") or {}).get("format")
    if export_format == "raw":
        raise ValidationFailed(f"export {export_id} is in the raw format (one row per judgment, no chosen/rejected); "
                               f"train on a trl-standard, trl-conversational or trl-implicit export", field="export")
    if not export_dir(export).is_dir():
        raise ValidationFailed(f"export {export_id}'s files are no longer on the server ({export_dir(export)})",
                               field="export")
    return export


def _check_pairs(path: Path, config: dict, field: str) -> dict:
    """Read the dataset now (names file, line and field on any problem) and check the eval split fits."""
    try:
        pairs = load_pairs(path)
    except DatasetError as error:
        raise ValidationFailed(str(error), field=field) from None
    eval_fraction = config.get("eval_fraction", TrainConfig.eval_fraction)
    if not pairs.test and eval_fraction > 0 and math.ceil(len(pairs.train) * eval_fraction) >= len(pairs.train):
        raise ValidationFailed(f"{len(pairs.train)} pairs are too few to hold out {eval_fraction:.0%} for evaluation "
                               f"and still train; add pairs or set eval_fraction to 0", field="eval_fraction")
    return {"train": len(pairs.train), "test": len(pairs.test), "row_format": pairs.row_format,
            "manifest_sha256": pairs.manifest_sha256}


def _check_output(output: Path) -> Path:
    output = output.expanduser().resolve()
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValidationFailed(f"output: {output} exists and is not an empty folder; choose a new path", field="output")
    if not output.parent.is_dir():
        raise ValidationFailed(f"output: the folder {output.parent} does not exist", field="output")
    return output


def training_request(*, project, actor, values: dict, output: Path | None = None, enqueue: bool = True) -> Job:
    """Check a training request and record its job (audited as training.requested). `values` holds
    `export` (an export job id) or `dataset` (a TRL-format folder or file on the server; the command
    line only) and the settings of CONFIG_FIELDS."""
    _check_lead(actor, "train reward models")
    known = set(CONFIG_FIELDS) | {"export", "dataset"}
    for name in values:
        if name not in known:
            raise ValidationFailed(f"unknown field {name!r}", field=name)
    config = parse_config(values)
    has_export, has_dataset = values.get("export") not in (None, ""), values.get("dataset") not in (None, "")
    if has_export == has_dataset:
        raise ValidationFailed("choose the data: an export of the project, or (command line) a dataset path",
                               field="export")
    if has_export:
        export = export_for_training(values["export"], project=project)
        project = project or export.project
        dataset, source = export_dir(export), {"export": export.pk}
    else:
        dataset, source = Path(values["dataset"]).expanduser().resolve(), {"dataset": str(values["dataset"])}
    counts = _check_pairs(dataset, config, "export" if has_export else "dataset")
    try:
        check_base_model(config["base_model"], config.get("max_length", TrainConfig.max_length))
    except BaseModelError as error:
        raise ValidationFailed(str(error), field="max_length" if "max_length" in str(error) else "base_model") from None
    if output is not None:
        output = _check_output(Path(output))
    params = {"source": source, "dataset_path": str(dataset), "config": config, "pairs": counts,
              "output": str(output) if output else None}
    return job_create(kind=TRAINING_JOB_KIND, project=project, actor=actor, params=params, enqueue=enqueue)


# ---------------------------------------------------------------- training: the job

def model_dir(job: Job) -> Path:
    output = job.params.get("output")
    return Path(output) if output else Path(settings.WB_MODEL_DIR) / f"rm-{job.pk}"


def checkpoint_dir(job: Job) -> Path:
    folder = model_dir(job)
    return folder.parent / f".{folder.name}.checkpoints"


def training_job_run(job: Job, ctx) -> None:
    """Train (resuming from this job's checkpoints if an earlier attempt was killed), then register
    the model and finish the job in one transaction."""
    from rm_training.train import train  # torch, transformers and TRL: only in the worker that trains

    out = model_dir(job)
    _remove_finished_leftovers(job, out)
    ctx.progress(0, None, "loading the data and the base model")
    config = TrainConfig(dataset=job.params["dataset_path"], output_dir=str(out),
                         checkpoint_dir=str(checkpoint_dir(job)), provenance=_provenance(job), **job.params["config"])

    def progress(step: int, total: int, logs: dict) -> None:
        values = _clean_logs(logs)
        if values:
            TrainingLog.objects.create(job=job, attempt=ctx.attempt, step=step, values=values, logged_at=clock.now())
        ctx.progress(step, total, _progress_message(values))

    result = train(config, progress=progress)
    artifacts = [ArtifactFile(name=p.relative_to(out).as_posix(), path=p) for p in sorted(out.rglob("*")) if p.is_file()]
    for artifact in artifacts:
        artifact.measure()  # hashing the weights must not hold the write transaction
    record = result.record
    provenance = record["provenance"]
    with transaction.atomic():
        RewardModel.objects.create(
            job=job, project=job.project, path=str(out), export_job_id=job.params["source"].get("export"),
            dataset=job.params["dataset_path"], manifest_sha256=provenance.get("manifest_sha256") or "",
            base_model=record["config"]["base_model"], guideline_versions=_guideline_versions(job, provenance),
            counts={**record["counts"], "truncation": record["truncation"]}, eval_metrics=_finite(record["eval"]),
            curve=_finite(record["curve"]), created_at=clock.now(),
        )
        ctx.succeed(JobOutcome(artifacts=artifacts, result={
            "model_dir": str(out), "eval": _finite(record["eval"]), "counts": record["counts"],
            "eval_source": record["eval_source"], "environment": record["environment"]}))


def training_job_cleanup(job: Job) -> None:
    """A cancelled or failed run leaves no model folder, partial or checkpoints. A run the sweeper
    re-queued (its worker was presumed dead) keeps its checkpoints for the next attempt."""
    job.refresh_from_db(fields=["state"])
    if job.state in (Job.State.QUEUED, Job.State.RUNNING):
        return
    out = model_dir(job)
    if out.exists() and not RewardModel.objects.filter(job=job).exists() and _may_remove(job, out):
        shutil.rmtree(out, ignore_errors=True)
    for leftover in [checkpoint_dir(job), *out.parent.glob(f".{out.name}.partial-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _remove_finished_leftovers(job: Job, out: Path) -> None:
    """A folder an earlier attempt wrote completely but could not register (killed in between), and
    partials of attempts killed while writing: the checkpoints stay, the run resumes from them."""
    if out.exists() and any(out.iterdir()) and _may_remove(job, out):
        shutil.rmtree(out)
    for partial in out.parent.glob(f".{out.name}.partial-*"):
        shutil.rmtree(partial, ignore_errors=True)


def _may_remove(job: Job, out: Path) -> bool:
    """Whether this job may remove `out`: the folder it owns in WB_MODEL_DIR, or a model folder it wrote
    in the folder the lead chose (its metrics.json names the job). That folder was empty when the run
    was requested, but files may have arrived since: those are not the job's to delete (training then
    refuses the folder, naming it)."""
    return not job.params.get("output") or written_by(job, out / "metrics.json", "training_job")


def _provenance(job: Job) -> dict:
    provenance = {"training_job": job.pk, "project": job.project.slug if job.project else None,
                  "requested_by": job.requested_by.get_username() if job.requested_by else None,
                  "code_version": code_version()}
    if "export" in job.params["source"]:
        provenance["export_id"] = job.params["source"]["export"]
    return provenance


def _guideline_versions(job: Job, provenance: dict) -> list[dict]:
    """[{version, sha256, judgments?}]: from the export's manifest (which counts judgments per version),
    else from whatever the dataset's manifest recorded (exports name the number "number" there)."""
    listed = provenance.get("guideline_versions") or []
    export_id = job.params["source"].get("export")
    if export_id:
        manifest = (Job.objects.filter(pk=export_id).values_list("result", flat=True).first() or {}).get("manifest", {})
        listed = manifest.get("guideline_versions") or listed
    versions = []
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, dict):
            version = {"version": entry.get("version", entry.get("number")), "sha256": entry.get("sha256")}
            if "judgments" in entry:
                version["judgments"] = entry["judgments"]
            versions.append(version)
    return versions


def _clean_logs(logs: dict) -> dict:
    """The numbers worth plotting, as plain finite floats (PostgreSQL's jsonb has no NaN)."""
    values = {}
    for key in LOGGED:
        value = logs.get(key)
        try:
            value = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value):
            values[key] = value
    return values


def _progress_message(values: dict) -> str:
    parts = [f"{key} {values[key]:.4f}" for key in ("loss", "eval_loss", "eval_accuracy") if key in values]
    return "training: " + ", ".join(parts) if parts else "training"


def _finite(value):
    """A JSON-ready copy with NaN and infinities as None."""
    return json.loads(json.dumps(value, default=str).replace("NaN", "null").replace("-Infinity", "null")
                      .replace("Infinity", "null"))


# ---------------------------------------------------------------- scoring

def score_dir(job: Job) -> Path:
    return Path(settings.WB_SCORE_DIR) / f"score-{job.pk}"


def score_output(job: Job) -> Path:
    output = job.params.get("output")
    return Path(output) if output else score_dir(job) / "scores.jsonl"


def store_upload(chunks: Iterable[bytes], file_name: str) -> Path:
    """Keep an uploaded pairs file on the server for the scoring job, copied chunk by chunk (an upload
    may be 200 MB and Django already holds it in a temporary file) under a hidden name, then renamed."""
    folder = Path(settings.WB_SCORE_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl.gz" if file_name.endswith(".jsonl.gz") else Path(file_name).suffix.lower() or ".jsonl"
    if suffix not in (".jsonl", ".jsonl.gz", ".parquet"):
        raise ValidationFailed(f"{file_name}: upload a .jsonl, .jsonl.gz or .parquet file of pairs", field="pairs")
    target = folder / f"{uuid.uuid4().hex}{suffix}"
    partial = folder / f".{target.name}.partial"
    try:
        with open(partial, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def scoring_request(*, actor, project=None, model: RewardModel | None = None, model_path: str | None = None,
                    pairs: str | Path | None = None, held_out: bool = False, output: Path | None = None,
                    quantize: str | None = None, enqueue: bool = True) -> Job:
    """Check a scoring request and record its job (audited as scoring.requested): a registered model
    or a model folder, and a pairs file or (registered models) the held-out test split of its export;
    `quantize="int8"` scores with int8 Linear layers on the worker's CPU (faster, rewards move slightly)."""
    from rm_training.score import QUANTIZE_CHOICES, ModelError, check_reward_model_folder

    _check_lead(actor, "score with reward models")
    quantize = quantize or None
    if quantize is not None and quantize not in QUANTIZE_CHOICES:
        raise ValidationFailed(f"quantize: {quantize!r} is not one of {', '.join(QUANTIZE_CHOICES)}", field="quantize")
    if model is not None:
        model_path, project = model.path, project or model.project
    if not model_path:
        raise ValidationFailed("choose a model: a trained model's id or a model folder", field="model")
    try:
        check_reward_model_folder(Path(model_path))
    except ModelError as error:
        raise ValidationFailed(str(error), field="model") from None
    if held_out == (pairs not in (None, "")):
        raise ValidationFailed("choose what to score: a file of pairs, or the held-out comparisons", field="pairs")
    split = "all"
    if held_out:
        if model is None or model.export_job is None:
            raise ValidationFailed("held-out comparisons come from the model's export; this model was trained on a "
                                   "dataset given by path: score a file instead", field="pairs")
        pairs, split = export_dir(model.export_job), "test"
    pairs = Path(pairs).expanduser().resolve()
    try:
        loaded = load_pairs(pairs)
    except DatasetError as error:
        raise ValidationFailed(str(error), field="pairs") from None
    chosen = loaded.test if split == "test" else loaded.train + loaded.test
    if not chosen:
        raise ValidationFailed(f"export {model.export_job_id} has no test split to score: export again with a test "
                               f"fraction above 0, or score a file", field="pairs")
    if output is not None:
        output = Path(output).expanduser().resolve()
        if output.exists():
            raise ValidationFailed(f"output: {output} exists; choose a new file", field="output")
        if not output.parent.is_dir():
            raise ValidationFailed(f"output: the folder {output.parent} does not exist", field="output")
    params = {"model_id": model.pk if model else None, "model_path": str(model_path), "pairs": str(pairs),
              "split": split, "held_out": held_out, "count": len(chosen), "output": str(output) if output else None,
              "quantize": quantize}
    return job_create(kind=SCORING_JOB_KIND, project=project, actor=actor, params=params, enqueue=enqueue)


def scoring_job_run(job: Job, ctx) -> JobOutcome:
    """Score the pairs in input order; write one JSON line per pair, then the summary to the job."""
    from rm_training.score import score, write_jsonl_atomically

    loaded = load_pairs(job.params["pairs"])
    pairs = loaded.test if job.params["split"] == "test" else loaded.train + loaded.test
    ctx.progress(0, len(pairs), "loading the model")
    result = score(job.params["model_path"], pairs, quantize=job.params.get("quantize"))
    ctx.progress(len(pairs), len(pairs), "writing the scores")
    out = score_output(job)
    write_jsonl_atomically(out, result.rows)
    summary = _finite(result.summary)
    return JobOutcome(artifacts=[ArtifactFile(name=out.name, path=out, rows=len(result.rows))],
                      result={"summary": summary, "output": str(out)})


def scoring_job_cleanup(job: Job) -> None:
    job.refresh_from_db(fields=["state"])
    if job.state in (Job.State.QUEUED, Job.State.RUNNING):
        return
    out = score_output(job)
    out.unlink(missing_ok=True)
    if not job.params.get("output"):
        shutil.rmtree(score_dir(job), ignore_errors=True)
