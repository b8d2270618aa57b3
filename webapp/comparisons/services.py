"""State changes of comparisons, assignments and judgments: one write function each."""
import datetime as dt
import random
from collections import Counter

from django.db import connection, transaction
from django.db.models import F

from webapp.audit.services import audit_record
from webapp.comparisons import sql as comparison_sql
from webapp.comparisons.models import (
    Assignment,
    Comparison,
    Judgment,
    Prompt,
    Response,
    left_is_a_from_seed,
)
from webapp.core import clock, sql
from webapp.core.errors import (
    Conflict,
    GuidelineNotAcknowledged,
    LeaseLost,
    NotFound,
    QuizRequired,
    ValidationFailed,
)
from webapp.guidelines.models import GuidelineVersion
from webapp.projects.models import Project

_seed_source = random.SystemRandom()
_repeat_draw = random.Random()  # whether a next-task call re-serves (a share, not a secret)
MAX_RATIONALE_CHARS = 10_000
MAX_SKIP_REASON_CHARS = 500
MAX_ACTIVE_MS = 24 * 3600 * 1000


@transaction.atomic
def leases_expire(*, now: dt.datetime | None = None, project_id: int | None = None) -> int:
    """Return expired leases' slots to the pool. Safe to run concurrently (locked rows are skipped)."""
    return _expire_leases(now=now or clock.now(), project_id=project_id)


def _expire_leases(*, now: dt.datetime, project_id: int | None) -> int:
    # No atomic() of its own: on the next-task path a savepoint would cost two round trips.
    leases = Assignment.objects.filter(status=Assignment.Status.LEASED, expires_at__lte=now)
    if project_id is not None:
        leases = leases.filter(project_id=project_id)
    expired = list(leases.select_for_update(skip_locked=True, of=("self",)).values_list(
        "id", "comparison_id", "rater__profile__pseudonym", "project_id", "repeat_of_id"))
    if not expired:
        return 0
    Assignment.objects.filter(pk__in=[row[0] for row in expired]).update(status=Assignment.Status.EXPIRED, finished_at=now)
    slots = Counter(row[1] for row in expired if row[4] is None)  # a consistency re-serve took no slot
    for comparison_id, count in sorted(slots.items()):
        Comparison.objects.filter(pk=comparison_id).update(taken=F("taken") - count)
    for assignment_id, comparison_id, rater_pseudonym, proj_id, _repeat_of in expired:
        audit_record(actor=None, action="assignment.expired", object_type="comparisons.assignment",
                     object_id=str(assignment_id), project_id=proj_id,
                     payload={"comparison_id": comparison_id, "rater": rater_pseudonym})
    return len(expired)


def _serving_queryset():
    return Assignment.objects.select_related(
        "guideline_version", "comparison__prompt", "comparison__response_a", "comparison__response_b"
    )


def _serving_gate(*, project, rater, now: dt.datetime):
    """(current guideline version, id of the rater's live lease or None); raises when the rater may
    not be served yet."""
    gate = comparison_sql.serving_gate(project_id=project.pk, rater_id=rater.pk, now=now)
    if gate is None:
        raise Conflict("this project has no published guideline yet; ask a data lead to publish one")
    if not gate.acknowledged:
        raise GuidelineNotAcknowledged(
            f"guideline v{gate.number} of {project.slug} is new to you: read and acknowledge it before your next task"
        )
    if gate.quiz_pending:
        raise QuizRequired(f"pass the onboarding quiz for guideline v{gate.number} before your first task")
    version = sql.partial_instance(GuidelineVersion, id=gate.version_id, project_id=project.pk, number=gate.number,
                                   sha256=gate.sha256)
    return version, gate.live_id


def assignment_next(*, project, rater, now: dt.datetime | None = None) -> Assignment | None:
    """Lease the next comparison for `rater`, or return their live lease; None when nothing is left.

    Serving order: comparisons closest to completion first, so finished pairs accumulate.
    PostgreSQL: FOR UPDATE SKIP LOCKED lets raters race without waiting on each other.
    SQLite: the IMMEDIATE transaction serializes claims.
    With the project's consistency_fraction above 0, that share of calls first tries to re-serve
    one of the rater's own judged pairs (_claim_repeat); at 0 (the default) nothing more is done.
    """
    now = now or clock.now()
    version, live_id = _serving_gate(project=project, rater=rater, now=now)
    if live_id is not None:
        return _resume(live_id, version)
    lease = _Lease(project=project, rater=rater, version=version, now=now)
    if project.consistency_fraction and _repeat_draw.random() < project.consistency_fraction:
        repeat = _claim_repeat(lease)
        if repeat is not None:
            return repeat
    if connection.vendor == "postgresql":
        row = comparison_sql.claim(project_id=project.pk, overlap=project.overlap, rater_id=rater.pk,
                                   lease=lease.assignment)
        if row is not None:
            return lease.leased(assignment_id=row.assignment_id, comparison=_comparison_from_row(project, row))
    return _claim_serialized(lease)


@transaction.atomic
def _claim_serialized(lease: "_Lease") -> Assignment | None:
    # SQLite's path, and PostgreSQL's when every open pair was locked or none is left.
    project, rater = lease.project, lease.rater
    live_id = comparison_sql.live_lease_id(project_id=project.pk, rater_id=rater.pk, now=lease.now)
    if live_id is not None:  # a concurrent call of the same rater won (SQLite serializes them here)
        return _resume(live_id, lease.version)
    candidates = {"project_id": project.pk, "overlap": project.overlap, "rater_id": rater.pk}
    picked = comparison_sql.pick(**candidates, skip_locked=True)
    if picked is None:
        # Before saying "nothing left": free expired leases (the beat task does so every 30 s too),
        # then wait for pairs other raters hold locked, in case their claims roll back.
        _expire_leases(now=lease.now, project_id=project.pk)
        picked = comparison_sql.pick(**candidates, skip_locked=False)
        if picked is None:
            return None
    comparison = _comparison_from_row(project, picked)
    lease.assignment.comparison_id, lease.assignment.round = comparison.pk, comparison.round
    return lease.leased(assignment_id=comparison_sql.take_slot_and_lease(lease.assignment), comparison=comparison)


@transaction.atomic
def _claim_repeat(lease: "_Lease") -> Assignment | None:
    """Re-serve one of the rater's own judged pairs, the sides swapped relative to the first time,
    without taking an overlap slot; None when none is eligible (see comparison_sql.pick_repeat)."""
    project, rater = lease.project, lease.rater
    live_id = comparison_sql.live_lease_id(project_id=project.pk, rater_id=rater.pk, now=lease.now)
    if live_id is not None:  # a concurrent call of the same rater won
        return _resume(live_id, lease.version)
    picked = comparison_sql.pick_repeat(project_id=project.pk, rater_id=rater.pk, min_gap=project.consistency_min_gap)
    if picked is None:
        return None
    comparison = _comparison_from_row(project, picked)
    assignment, fresh_seed = lease.assignment, lease.assignment.seed
    assignment.comparison_id, assignment.round, assignment.repeat_of_id = comparison.pk, comparison.round, picked.original_id
    assignment.seed = _seed_showing(left_is_a=not left_is_a_from_seed(picked.original_seed))
    assignment_id = comparison_sql.lease_repeat(assignment)
    if assignment_id is None:  # served a new pair instead, in its own random order
        assignment.repeat_of_id, assignment.seed = None, fresh_seed
        return None
    return lease.leased(assignment_id=assignment_id, comparison=comparison)


def _seed_showing(*, left_is_a: bool) -> int:
    """A fresh seed whose display order puts A on the left exactly when `left_is_a`."""
    while True:
        seed = _seed_source.getrandbits(62)
        if left_is_a_from_seed(seed) == left_is_a:
            return seed


class _Lease:
    """A new assignment, known but for its comparison until one is picked."""

    def __init__(self, *, project, rater, version, now):
        self.project, self.rater, self.version, self.now = project, rater, version, now
        self.assignment = Assignment(
            project=project, rater=rater, guideline_version=version, status=Assignment.Status.LEASED,
            seed=_seed_source.getrandbits(62), served_at=now, expires_at=now + dt.timedelta(minutes=project.lease_minutes),
        )

    def leased(self, *, assignment_id: int, comparison: Comparison) -> Assignment:
        assignment = self.assignment
        assignment.id, assignment.comparison, assignment.round = assignment_id, comparison, comparison.round
        assignment._state.adding = False
        return assignment


@transaction.atomic
def _resume(assignment_id: int, version) -> Assignment:
    live = _serving_queryset().get(pk=assignment_id)
    if live.guideline_version_id != version.pk:
        # Served again, now under the version the rater just acknowledged.
        Assignment.objects.filter(pk=live.pk).update(guideline_version=version)
        live.guideline_version = version
    return live


def _comparison_from_row(project, row) -> Comparison:
    prompt = Prompt(id=row.prompt_id, project=project, messages=sql.json_value(row.messages),
                    messages_html=sql.json_value(row.messages_html))
    return Comparison(
        id=row.comparison_id, project=project, round=row.round, prompt=prompt,
        response_a=Response(id=row.a_id, prompt=prompt, text=row.a_text, html=row.a_html),
        response_b=Response(id=row.b_id, prompt=prompt, text=row.b_text, html=row.b_html),
    )


def canonical_choice(displayed: str, left_is_a: bool) -> str:
    if displayed == "left":
        return Judgment.Choice.A if left_is_a else Judgment.Choice.B
    if displayed == "right":
        return Judgment.Choice.B if left_is_a else Judgment.Choice.A
    return displayed  # tie / both_bad have no side


def _validate_answer(*, project, choice, strength, rationale, flags, active_ms) -> None:
    spec = project.scale_spec
    allowed = {"left", "right"} | ({"tie"} if spec.allows_tie else set()) | ({"both_bad"} if project.allow_both_bad else set())
    if choice not in allowed:
        raise ValidationFailed(f"choice must be one of {', '.join(sorted(allowed))} on this project", field="choice")
    sided = choice in ("left", "right")
    levels = {value for value, _ in spec.strengths}
    if sided and levels and strength not in levels:
        raise ValidationFailed(f"strength must be one of {sorted(levels)} on this project's scale", field="strength")
    if (not sided or not levels) and strength is not None:
        raise ValidationFailed("strength is only given with left or right on a scale that has strengths", field="strength")
    if not isinstance(rationale, str):
        raise ValidationFailed("rationale must be a string", field="rationale")
    if project.rationale_required and not rationale.strip():
        raise ValidationFailed("this project requires a rationale", field="rationale")
    if len(rationale) > MAX_RATIONALE_CHARS:
        raise ValidationFailed(f"rationale is {len(rationale)} characters; the limit is {MAX_RATIONALE_CHARS}", field="rationale")
    known_flags = set(Judgment.Flag.values)
    if (not isinstance(flags, list) or not all(isinstance(f, str) and f in known_flags for f in flags)
            or len(set(flags)) != len(flags)):
        raise ValidationFailed(f"flags must be a list of distinct values from {sorted(known_flags)}", field="flags")
    if active_ms is not None and (not isinstance(active_ms, int) or isinstance(active_ms, bool) or not 0 <= active_ms <= MAX_ACTIVE_MS):
        raise ValidationFailed("active_ms must be a whole number of milliseconds", field="active_ms")


def _validate_key(key: str) -> None:
    if not key or len(key) > 100 or not key.isascii() or not key.isprintable():
        raise ValidationFailed("an Idempotency-Key of 1 to 100 printable ASCII characters is required", field="Idempotency-Key")


@transaction.atomic
def judgment_submit(*, assignment_id: int, rater, choice: str, strength: int | None = None, rationale: str = "",
                    flags: list | None = None, active_ms: int | None = None, idempotency_key: str,
                    now: dt.datetime | None = None) -> tuple[Judgment, bool]:
    """Store the rater's judgment; return (judgment, created).

    The same idempotency key returns the first judgment and writes nothing. On an assignment the
    rater already judged, a new key stores a correction that supersedes the previous judgment.
    """
    now = now or clock.now()
    flags = [] if flags is None else flags
    _validate_key(idempotency_key)
    locked = comparison_sql.lock_assignment(assignment_id=assignment_id, rater_id=rater.pk,
                                            idempotency_key=idempotency_key, now=now)
    if locked is None:
        raise NotFound("no such assignment of yours")
    earlier_id, earlier_assignment_id = locked.earlier_id, locked.earlier_assignment_id
    if earlier_id is None and locked.status == Assignment.Status.SUBMITTED:
        # We may have waited for the lock on a concurrent submit with this very key: its judgment
        # committed after this statement's snapshot, so look again with a fresh one.
        earlier_id, earlier_assignment_id = comparison_sql.judgment_by_key(rater_id=rater.pk,
                                                                           idempotency_key=idempotency_key)
    if earlier_id is not None:
        if earlier_assignment_id != assignment_id:
            raise Conflict("this Idempotency-Key was already used for another assignment", field="Idempotency-Key")
        return Judgment.objects.get(pk=earlier_id), False
    project = sql.partial_instance(Project, id=locked.project_id, scale=locked.scale,
                                   allow_both_bad=bool(locked.allow_both_bad),
                                   rationale_required=bool(locked.rationale_required))
    _validate_answer(project=project, choice=choice, strength=strength, rationale=rationale, flags=flags,
                     active_ms=active_ms)
    previous = None
    if locked.status == Assignment.Status.SUBMITTED:
        previous = Judgment.objects.filter(assignment_id=assignment_id, superseded_by__isnull=True).order_by("-id").first()
    elif not locked.live:
        raise LeaseLost(
            "your lease on this task ended (it expired or was skipped) and the pair went back to the pool; "
            "this judgment was not saved. Ask for the next task."
        )
    left_is_a = left_is_a_from_seed(locked.seed)
    judgment = Judgment(
        assignment_id=assignment_id, comparison_id=locked.comparison_id, rater=rater,
        guideline_version_id=locked.guideline_version_id,
        choice=canonical_choice(choice, left_is_a), choice_displayed=choice, display_order="AB" if left_is_a else "BA",
        strength=strength, rationale=rationale, flags=flags, served_at=sql.read_datetime(locked.served_at), submitted_at=now,
        active_ms=active_ms, idempotency_key=idempotency_key, supersedes=previous,
        repeat=locked.repeat_of_id is not None,
    )
    judgment.pk = comparison_sql.insert_judgment(judgment, first=previous is None,
                                                 postgresql=connection.vendor == "postgresql")
    judgment._state.adding = False
    audit_record(
        actor=rater, action="judgment.superseded" if previous else "judgment.submitted", obj=judgment,
        project_id=locked.project_id,
        payload={"assignment_id": assignment_id, "comparison_id": locked.comparison_id,
                 "guideline_version_id": locked.guideline_version_id, "choice": judgment.choice,
                 "strength": strength, "supersedes": previous.pk if previous else None,
                 **({"repeat_of_assignment": locked.repeat_of_id} if judgment.repeat else {})},
    )
    return judgment, True


@transaction.atomic
def assignment_skip(*, assignment_id: int, rater, reason: str, now: dt.datetime | None = None) -> Assignment:
    """Give a leased task back with a reason; the rater will not be served it again."""
    now = now or clock.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("say why you skip this task", field="reason")
    if len(reason) > MAX_SKIP_REASON_CHARS:
        raise ValidationFailed(f"the reason is over {MAX_SKIP_REASON_CHARS} characters", field="reason")
    assignment = Assignment.objects.select_for_update().filter(pk=assignment_id, rater=rater).first()
    if assignment is None:
        raise NotFound("no such assignment of yours")
    if not assignment.is_live(now):
        raise LeaseLost("this task is no longer leased to you (submitted, skipped or expired)")
    Assignment.objects.filter(pk=assignment.pk).update(status=Assignment.Status.SKIPPED, finished_at=now, skip_reason=reason)
    if not assignment.is_repeat:  # a consistency re-serve took no slot
        Comparison.objects.filter(pk=assignment.comparison_id).update(taken=F("taken") - 1)
    audit_record(actor=rater, action="assignment.skipped", obj=assignment, project_id=assignment.project_id,
                 payload={"comparison_id": assignment.comparison_id, "reason": reason})
    assignment.status, assignment.skip_reason = Assignment.Status.SKIPPED, reason
    return assignment


@transaction.atomic
def comparisons_requeue(*, project, comparison_ids: list[int], actor, now: dt.datetime | None = None) -> int:
    """Send comparisons judged under an older guideline back for k new judgments under the current one.

    Their judgments stay as they are (pinned to the old version, in the old round); live leases of
    the old round are ended, so a late submit on one is refused.
    """
    from webapp.comparisons.selectors import requeue_candidates
    from webapp.guidelines.models import GuidelineVersion

    now = now or clock.now()
    current = GuidelineVersion.objects.current_for(project)
    if current is None:
        raise Conflict("this project has no guideline yet")
    eligible = {c.comparison_id: c for c in requeue_candidates(project=project, current_version_number=current.number)}
    chosen = sorted(set(comparison_ids))
    not_eligible = [cid for cid in chosen if cid not in eligible]
    if not chosen or not_eligible:
        raise ValidationFailed(
            f"only comparisons of this project judged under a guideline older than v{current.number} can be re-queued"
            + (f"; not eligible: {not_eligible[:20]}" if not_eligible else ""), field="comparisons")
    locked = list(Comparison.objects.select_for_update().filter(pk__in=chosen).order_by("pk").values_list("pk", flat=True))
    ended = Assignment.objects.filter(comparison_id__in=locked, status=Assignment.Status.LEASED).update(
        status=Assignment.Status.EXPIRED, finished_at=now)
    Comparison.objects.filter(pk__in=locked).update(round=F("round") + 1, taken=0, judged=0)
    audit_record(actor=actor, action="comparisons.requeued", object_type="projects.project", object_id=str(project.pk),
                 project_id=project.pk,
                 payload={"comparison_ids": locked, "under_version": current.number, "leases_ended": ended,
                          "old_rounds": {str(cid): eligible[cid].round for cid in locked}})
    return len(locked)
