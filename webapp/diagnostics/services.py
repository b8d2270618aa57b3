"""Diagnostics as a job: a lead asks, the runs machinery queues it, the worker computes the report
(prefkit.diagnostics over a vectorized read) with progress, and the report is the job's result."""
from dataclasses import asdict

from django.db import transaction

from webapp.accounts.models import Role
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.diagnostics import report as reports
from webapp.diagnostics.selectors import parse_selection
from webapp.projects.selectors import role_of
from webapp.runs.models import Job
from webapp.runs.services import JobOutcome, job_create

DIAGNOSTICS_JOB_KIND = "diagnostics"
SELECTION_FIELDS = ("guideline_version", "rater", "origin", "since", "until")
STEPS = ("reading judgments", "agreement", "cohen", "rater quality", "bias", "breakdown by origin",
         "breakdown by guideline version")
MAX_RESAMPLES = 10_000


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


@transaction.atomic
def diagnostics_request(*, project, actor, values: dict, enqueue: bool = True) -> Job:
    """Validate a request (selection, thresholds, resamples) and queue the job (audited)."""
    if actor is not None and role_of(actor) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden("only data leads and admins can compute diagnostics")
    selection = parse_selection(values)
    thresholds = reports.thresholds_from(values)
    params = {"selection": selection.as_dict(), "thresholds": asdict(thresholds),
              "n_resamples": _resamples(values.get("n_resamples")), "seed": 0}
    return job_create(kind=DIAGNOSTICS_JOB_KIND, project=project, actor=actor, params=params, enqueue=enqueue)


def diagnostics_job_run(job: Job, ctx) -> JobOutcome:
    """Compute the report; each step is a progress tick (and a chance to notice a cancel)."""
    def progress(message: str) -> None:
        done = STEPS.index(message) if message in STEPS else 0
        ctx.progress(done, len(STEPS), message)

    report = reports.build(job.project, parse_selection(job.params["selection"]),
                           thresholds=reports.thresholds_from(job.params["thresholds"]),
                           n_resamples=job.params["n_resamples"], seed=job.params["seed"], progress=progress)
    report["job_id"] = job.pk
    return JobOutcome(result={"report": report})


def latest_report_job(project) -> Job | None:
    return (Job.objects.filter(project=project, kind=DIAGNOSTICS_JOB_KIND, state=Job.State.SUCCEEDED)
            .order_by("-finished_at", "-pk").first())
