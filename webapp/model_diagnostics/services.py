"""Reward-model diagnostics as a job on the training queue: a lead asks (checked before anything is
queued), a worker scores the model with progress, and the report is the job's result and its JSON
file. Nothing else is written: a cancelled or failed job leaves no file."""
import json
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from rm_training.data import DatasetError, load_pairs
from webapp.accounts.models import Role
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.diagnostics.probes import suites_for
from webapp.model_diagnostics import report as reports, selectors
from webapp.model_diagnostics.selectors import MODEL_DIAGNOSTICS_JOB_KIND
from webapp.projects.selectors import role_of
from webapp.runs.models import Job
from webapp.runs.services import ArtifactFile, JobOutcome, job_create
from webapp.training.models import RewardModel

REPORT_FILE = "model_diagnostics.json"
MAX_RESAMPLES = 10_000
__all__ = ["MODEL_DIAGNOSTICS_JOB_KIND", "model_diagnostics_request", "model_diagnostics_job_run",
           "model_diagnostics_job_cleanup"]


def _resamples(value) -> int:
    if value in (None, ""):
        return 1000
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("n_resamples must be a whole number", field="n_resamples") from None
    if not 0 <= n <= MAX_RESAMPLES:
        raise ValidationFailed(f"n_resamples must be between 0 and {MAX_RESAMPLES}", field="n_resamples")
    return n


def _check_model_folder(model: RewardModel) -> None:
    from rm_training.score import ModelError, check_reward_model_folder

    try:
        check_reward_model_folder(Path(model.path))
    except ModelError as error:
        raise ValidationFailed(str(error), field="model") from None


@transaction.atomic
def model_diagnostics_request(*, model: RewardModel, actor, values: dict, pairs: str | Path | None = None,
                              pairs_name: str | None = None, enqueue: bool = True) -> Job:
    """Check a request and record its job (audited as model_diagnostics.requested): the model's
    held-out comparisons, or `pairs` (a file of pairs on the server: an upload or a path) instead."""
    if actor is not None and role_of(actor) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden("only data leads and admins can compute reward-model diagnostics")
    _check_model_folder(model)
    params = {"model_id": model.pk, "n_resamples": _resamples(values.get("n_resamples")), "seed": 0}
    suites = suites_for(model.project) if model.project else {}
    if pairs not in (None, ""):
        path = Path(pairs).expanduser().resolve()
        try:
            loaded = load_pairs(path)
        except DatasetError as error:
            raise ValidationFailed(str(error), field="pairs") from None
        params.update(what="pairs", pairs=str(path), pairs_name=pairs_name or path.name,
                      count=len(loaded.train) + len(loaded.test))
    else:
        held = selectors.held_out_for(model)
        if not held.comparison_ids and not suites:
            raise ValidationFailed(f"nothing to evaluate reward model {model.pk} on: no held-out comparisons "
                                   f"({held.description}) and no probe suites; evaluate it on a file of pairs",
                                   field="pairs")
        params.update(what="held_out", rule=held.rule, count=len(held.comparison_ids))
    params["suites"] = {name: len(items) for name, items in suites.items()}
    return job_create(kind=MODEL_DIAGNOSTICS_JOB_KIND, project=model.project, actor=actor, params=params,
                      enqueue=enqueue)


def report_dir(job: Job) -> Path:
    return Path(settings.WB_SCORE_DIR) / f"model-diagnostics-{job.pk}"


def model_diagnostics_job_run(job: Job, ctx) -> JobOutcome:
    """Score and compute; the report is the job's result and its one file."""
    model = RewardModel.objects.select_related("project", "export_job").get(pk=job.params["model_id"])
    report = reports.build(model, job.params, progress=ctx.progress)
    report["job_id"] = job.pk
    out = report_dir(job) / REPORT_FILE
    _write_json(out, report)
    return JobOutcome(artifacts=[ArtifactFile(name=REPORT_FILE, path=out)], result={"report": report})


def _write_json(path: Path, data: dict) -> None:
    """Written whole to a temporary sibling, then renamed: never a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False,
                                     encoding="utf-8") as handle:
        handle.write(report_json(data))
    os.replace(handle.name, path)


def report_json(report: dict) -> str:
    """The one JSON form of a report: the file, the page's download and the command print this."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def model_diagnostics_job_cleanup(job: Job) -> None:
    """Only a succeeded job keeps its report file (the file is written last, so a failure or a
    cancel may leave one behind that no job vouches for)."""
    job.refresh_from_db(fields=["state"])
    if job.state != Job.State.SUCCEEDED:
        shutil.rmtree(report_dir(job), ignore_errors=True)
