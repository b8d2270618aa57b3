"""Diagnostics as a job: a lead asks, the runs machinery queues it, the worker computes the report
(prefkit.diagnostics over a vectorized read) with progress, and the report is the job's result."""
from dataclasses import asdict

from django.db import transaction

from webapp.accounts.models import Role
from webapp.audit.services import audit_record
from webapp.core import clock
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.diagnostics import report as reports
from webapp.diagnostics.models import RaterThresholds
from webapp.diagnostics.selectors import parse_selection
from webapp.diagnostics.thresholds import saved_thresholds, thresholds_from
from webapp.projects.models import Project
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


def _require_lead(actor, doing: str) -> None:
    if actor is not None and role_of(actor) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden(f"only data leads and admins can {doing}")


@transaction.atomic
def diagnostics_request(*, project, actor, values: dict, enqueue: bool = True) -> Job:
    """Validate a request (selection, resamples) and queue the job (audited). Raters are flagged by
    the project's saved thresholds, copied into the job so its report says which it used."""
    _require_lead(actor, "compute diagnostics")
    selection = parse_selection(values)
    thresholds = saved_thresholds(project)
    params = {"selection": selection.as_dict(), "thresholds": asdict(thresholds),
              "n_resamples": _resamples(values.get("n_resamples")), "seed": 0}
    return job_create(kind=DIAGNOSTICS_JOB_KIND, project=project, actor=actor, params=params, enqueue=enqueue)


def diagnostics_job_run(job: Job, ctx) -> JobOutcome:
    """Compute the report; each step is a progress tick (and a chance to notice a cancel)."""
    def progress(message: str) -> None:
        done = STEPS.index(message) if message in STEPS else 0
        ctx.progress(done, len(STEPS), message)

    report = reports.build(job.project, parse_selection(job.params["selection"]),
                           thresholds=thresholds_from(job.params["thresholds"]),
                           n_resamples=job.params["n_resamples"], seed=job.params["seed"], progress=progress)
    report["job_id"] = job.pk
    return JobOutcome(result={"report": report})


@transaction.atomic
def thresholds_save(*, project, actor, values: dict, now=None) -> dict:
    """Save the project's rater-quality thresholds (fields missing from `values` keep their saved
    value); return {name: {"from", "to"}} of what changed, which the audit event records too.
    A bad value is refused naming its field, and nothing is written."""
    _require_lead(actor, "change the rater thresholds")
    list(Project.objects.select_for_update().filter(pk=project.pk).values_list("pk"))  # one save at a time
    current = asdict(saved_thresholds(project))
    unknown = sorted(set(values) - set(current))
    if unknown:
        raise ValidationFailed(f"unknown threshold {unknown[0]!r}; known: {', '.join(current)}", field=unknown[0])
    wanted = asdict(thresholds_from({**current, **values}))
    diff = {name: {"from": current[name], "to": value} for name, value in wanted.items() if current[name] != value}
    if not diff:
        return {}
    row, _ = RaterThresholds.objects.update_or_create(  # locks the row it updates
        project=project, defaults={"values": wanted, "updated_by": actor, "updated_at": now or clock.now()})
    audit_record(actor=actor, action="diagnostics.thresholds_changed", obj=row, project_id=project.pk, payload=diff)
    return diff


def latest_report_job(project) -> Job | None:
    return (Job.objects.filter(project=project, kind=DIAGNOSTICS_JOB_KIND, state=Job.State.SUCCEEDED)
            .order_by("-finished_at", "-pk").first())
