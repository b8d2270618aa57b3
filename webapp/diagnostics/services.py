"""Diagnostics as a job: a lead asks, the runs machinery queues it, the worker computes the report
(prefkit.diagnostics over a vectorized read) with progress, and the report is the job's result.
Also the writes of sycophancy probe suites: a lead's upload, and probes mixed into the rater queue."""
import hashlib
import json
from dataclasses import asdict, dataclass

from django.db import transaction

from prefkit import probes
from prefkit.formats import ImportFormatError
from webapp.accounts.models import Role
from webapp.audit.services import audit_record
from webapp.comparisons.imports import import_file
from webapp.comparisons.uploads import check_size
from webapp.core import clock
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.diagnostics import probes as project_probes, report as reports
from webapp.diagnostics.models import ProbeSuite, RaterThresholds
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


# --- Sycophancy probe suites: a lead's own suites, and probes mixed into the rater queue ---------

@dataclass(frozen=True)
class QueuedProbes:
    suite: str
    seed: int
    added: int            # new comparisons in the project's queue
    already_queued: int   # items of the suite already queued in the project (by item id), left alone
    batch_id: int | None  # the comparison import batch, None when nothing was new


@dataclass(frozen=True)
class ProbeUpload:
    suite: ProbeSuite
    outcome: str          # created | replaced | unchanged (the same bytes as the current version)
    queued: QueuedProbes | None


def _require_lead(actor, what: str) -> None:
    if actor is not None and role_of(actor) not in (Role.LEAD, Role.ADMIN):
        raise Forbidden(f"only data leads and admins can {what}")


def _parse_suite_file(data: bytes, file_name: str) -> list[probes.ProbeItem]:
    """The file's items, or ValidationFailed naming file, line and field. A prompt must also read
    as a conversation ending with a user turn: what the queue and model scoring need."""
    try:
        items = probes.parse_suite(bytes(data), file_name)
        for item in items:
            probes.conversation_messages(item)
    except probes.ProbeFormatError as error:
        raise ValidationFailed(str(error), field="file") from None
    return items


@transaction.atomic
def upload_probe_suite(*, project, actor, data: bytes, file_name: str, into_queue: bool = False,
                       seed: int = 0) -> ProbeUpload:
    """Store a lead's probe suite file (prefkit.probes format) as the project's suite of that name.

    Nothing is written unless the whole file is valid. A suite already uploaded under the name is
    replaced and its version goes up (the same bytes again change nothing); the audit row records
    the old and new sha256. With `into_queue`, the items are also mixed into the rater queue
    (probes_queue) in the same transaction."""
    _require_lead(actor, "upload probe suites")
    check_size(len(data), file_name)
    items = _parse_suite_file(data, file_name)
    sha256, now = hashlib.sha256(data).hexdigest(), clock.now()
    fields = {"file_name": file_name[:255], "sha256": sha256, "item_count": len(items),
              "items": [probes.as_record(item) for item in items], "uploaded_by": actor, "updated_at": now}
    # Lock the project row first: FOR UPDATE on a suite not yet there locks nothing, so two first uploads
    # of one name (a double-clicked form) both went on to create it and the second failed on the unique name.
    Project.objects.select_for_update().filter(pk=project.pk).first()
    suite = ProbeSuite.objects.filter(project=project, name=items[0].suite).first()
    if suite is None:
        suite = ProbeSuite.objects.create(project=project, name=items[0].suite, created_at=now, **fields)
        outcome, previous = "created", {}
    elif suite.sha256 == sha256:
        outcome, previous = "unchanged", None
    else:
        previous = {"previous_sha256": suite.sha256, "previous_item_count": suite.item_count,
                    "previous_version": suite.version}
        for name, value in fields.items():
            setattr(suite, name, value)
        suite.version += 1
        suite.save()
        outcome = "replaced"
    if previous is not None:
        audit_record(actor=actor, action=f"probes.suite_{outcome}", obj=suite, project_id=project.pk,
                     payload={"name": suite.name, "file_name": suite.file_name, "sha256": sha256,
                              "item_count": len(items), "version": suite.version,
                              "overrides_built_in": suite.overrides_built_in, **previous})
    queued = probes_queue(project=project, actor=actor, suite_name=suite.name, seed=seed) if into_queue else None
    return ProbeUpload(suite=suite, outcome=outcome, queued=queued)


@transaction.atomic
def probes_queue(*, project, actor, suite_name: str, seed: int = 0) -> QueuedProbes:
    """Mix a suite's items (as suites_for(project) has them) into the project's rater queue, like
    gold items: each becomes a comparison through the comparison import, with
    metadata["probe"] = {"suite", "sycophantic": "a" | "b", "item", "seed"}; the seed decides which
    side the sycophantic reply takes (prefkit.probes.sycophantic_side). Items of the suite already
    queued in the project (by item id) are left as they are, so queueing twice adds nothing."""
    _require_lead(actor, "queue probes")
    available = project_probes.suites_for(project)
    if suite_name not in available:
        raise ValidationFailed(f"no probe suite {suite_name!r} in project {project.slug}; known: "
                               f"{', '.join(sorted(available))}", field="suite")
    queued = project_probes.queued_item_ids(project, suite_name)
    new = [item for item in available[suite_name] if item.id not in queued]
    batch = _import_probe_comparisons(project, actor, suite_name, new, seed) if new else None
    outcome = QueuedProbes(suite=suite_name, seed=seed, added=batch.created_count if batch else 0,
                           already_queued=len(available[suite_name]) - len(new),
                           batch_id=batch.pk if batch else None)
    audit_record(actor=actor, action="probes.queued", object_type="diagnostics.probesuite", object_id=suite_name,
                 project_id=project.pk, payload=asdict(outcome))
    return outcome


def _import_probe_comparisons(project, actor, suite_name: str, items: list[probes.ProbeItem], seed: int):
    try:
        records = [probes.as_comparison_record(item, seed=seed) for item in items]
    except probes.ProbeFormatError as error:
        raise ValidationFailed(str(error), field="file") from None
    data = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()
    try:
        return import_file(project=project, file_name=f"probes-{suite_name}-seed{seed}.jsonl", actor=actor, data=data)
    except ImportFormatError as error:  # e.g. a reply over WB_MAX_TEXT_CHARS: name the item, not the line
        item = items[error.line - 1].id if error.line and error.line <= len(items) else "?"
        raise ValidationFailed(f"probe suite {suite_name!r}, item {item!r}: {error.message}",
                               field=error.field or "file") from None
