"""State changes of comparisons, assignments and judgments: one write function each."""
import datetime as dt
import random
from collections import Counter

from django.db import connection, transaction
from django.db.models import F

from webapp.audit.services import audit_record
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
from webapp.guidelines.selectors import CURRENT_VERSION_STATUS_SQL
from webapp.projects.models import Project

_seed_source = random.SystemRandom()
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
        "id", "comparison_id", "rater__profile__pseudonym", "project_id"))
    if not expired:
        return 0
    Assignment.objects.filter(pk__in=[row[0] for row in expired]).update(status=Assignment.Status.EXPIRED, finished_at=now)
    for comparison_id, count in sorted(Counter(row[1] for row in expired).items()):
        Comparison.objects.filter(pk=comparison_id).update(taken=F("taken") - count)
    for assignment_id, comparison_id, rater_pseudonym, proj_id in expired:
        audit_record(actor=None, action="assignment.expired", object_type="comparisons.assignment",
                     object_id=str(assignment_id), project_id=proj_id,
                     payload={"comparison_id": comparison_id, "rater": rater_pseudonym})
    return len(expired)


def _serving_queryset():
    return Assignment.objects.select_related(
        "guideline_version", "comparison__prompt", "comparison__response_a", "comparison__response_b"
    )


_LIVE_LEASE = """
    SELECT id FROM comparisons_assignment
    WHERE project_id = %s AND rater_id = %s AND status = 'leased' AND expires_at > %s LIMIT 1"""
# Everything a next-task call must know before it claims, in one query: the guideline gate
# (the guidelines app's rule, wrapped) and the rater's live lease in this project, if any.
_GATE = f"""
    SELECT s.id, s.number, s.sha256, s.acknowledged, s.quiz_pending, ({_LIVE_LEASE})
    FROM ({CURRENT_VERSION_STATUS_SQL}) s"""
# Closest to completion first, never a pair this rater had in the comparison's current round.
_CANDIDATES = """
    FROM comparisons_comparison c
    WHERE c.project_id = %s AND c.taken < %s
      AND NOT EXISTS (SELECT 1 FROM comparisons_assignment seen
                      WHERE seen.comparison_id = c.id AND seen.rater_id = %s AND seen.round = c.round)
    ORDER BY c.taken DESC, c.id LIMIT 1"""
# What a rater is served of the picked comparison `picked` (see _comparison_from_row).
_SERVED_COLUMNS = """
    picked.id, picked.round, p.id, p.messages, p.messages_html, ra.id, ra.text, ra.html, rb.id, rb.text, rb.html"""
_SERVED_JOINS = """
    JOIN comparisons_prompt p ON p.id = picked.prompt_id
    JOIN comparisons_response ra ON ra.id = picked.response_a_id
    JOIN comparisons_response rb ON rb.id = picked.response_b_id"""
_PICKED_COLUMNS = "c.id, c.round, c.prompt_id, c.response_a_id, c.response_b_id"


def _pick_sql(*, skip_locked: bool) -> str:
    return f"""
    SELECT {_SERVED_COLUMNS}
    FROM (SELECT {_PICKED_COLUMNS} {_CANDIDATES} {sql.for_update("c", skip_locked=skip_locked)}) picked
    {_SERVED_JOINS}"""


_TAKE_SLOT = "UPDATE comparisons_comparison SET taken = taken + 1 WHERE id = %s"
# The lease's own columns first (_Lease.insert_params), then the picked comparison's.
_ASSIGNMENT_COLUMNS = """(project_id, rater_id, guideline_version_id, seed, served_at, expires_at,
                          comparison_id, round, status, finished_at, skip_reason)"""
_INSERT_ASSIGNMENT = f"""
    INSERT INTO comparisons_assignment {_ASSIGNMENT_COLUMNS}
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'leased', NULL, '') RETURNING id"""
# PostgreSQL: pick, take the slot and lease it in one statement (one round trip, no BEGIN/COMMIT).
# The picked row stays locked until the statement ends, so the slot count cannot overshoot.
_CLAIM_PG = f"""
    WITH picked AS (
        SELECT {_PICKED_COLUMNS} {_CANDIDATES}
        FOR UPDATE OF c SKIP LOCKED),
    slot AS (UPDATE comparisons_comparison c SET taken = c.taken + 1 FROM picked WHERE c.id = picked.id),
    leased AS (
        INSERT INTO comparisons_assignment {_ASSIGNMENT_COLUMNS}
        SELECT %s, %s, %s, %s, %s, %s, picked.id, picked.round, 'leased', NULL, '' FROM picked
        RETURNING id)
    SELECT leased.id, {_SERVED_COLUMNS}
    FROM leased CROSS JOIN picked
    {_SERVED_JOINS}"""


def _serving_gate(*, project, rater, now: dt.datetime):
    """(current guideline version, id of the rater's live lease or None); raises when the rater may
    not be served yet."""
    row = sql.one(_GATE, [project.pk, rater.pk, sql.db_datetime(now), rater.pk, rater.pk, project.pk])
    if row is None:
        raise Conflict("this project has no published guideline yet; ask a data lead to publish one")
    version_id, number, sha256, acknowledged, quiz_pending, live_id = row
    if not acknowledged:
        raise GuidelineNotAcknowledged(
            f"guideline v{number} of {project.slug} is new to you: read and acknowledge it before your next task"
        )
    if quiz_pending:
        raise QuizRequired(f"pass the onboarding quiz for guideline v{number} before your first task")
    version = sql.partial_instance(GuidelineVersion, id=version_id, project_id=project.pk, number=number, sha256=sha256)
    return version, live_id


def assignment_next(*, project, rater, now: dt.datetime | None = None) -> Assignment | None:
    """Lease the next comparison for `rater`, or return their live lease; None when nothing is left.

    Serving order: comparisons closest to completion first, so finished pairs accumulate.
    PostgreSQL: FOR UPDATE SKIP LOCKED lets raters race without waiting on each other.
    SQLite: the IMMEDIATE transaction serializes claims.
    """
    now = now or clock.now()
    version, live_id = _serving_gate(project=project, rater=rater, now=now)
    if live_id is not None:
        return _resume(live_id, version)
    lease = _Lease(project=project, rater=rater, version=version, now=now)
    if connection.vendor == "postgresql":
        row = sql.one(_CLAIM_PG, [project.pk, project.overlap, rater.pk, *lease.insert_params()])
        if row is not None:
            return lease.assignment(assignment_id=row[0], comparison=_comparison_from_row(project, row[1:]))
    return _claim_serialized(lease)


@transaction.atomic
def _claim_serialized(lease: "_Lease") -> Assignment | None:
    # SQLite's path, and PostgreSQL's when every open pair was locked or none is left.
    project, rater = lease.project, lease.rater
    live = sql.one(_LIVE_LEASE, [project.pk, rater.pk, sql.db_datetime(lease.now)])
    if live is not None:  # a concurrent call of the same rater won (SQLite serializes them here)
        return _resume(live[0], lease.version)
    candidates = [project.pk, project.overlap, rater.pk]
    picked = sql.one(_pick_sql(skip_locked=True), candidates)
    if picked is None:
        # Before saying "nothing left": free expired leases (the beat task does so every 30 s too),
        # then wait for pairs other raters hold locked, in case their claims roll back.
        _expire_leases(now=lease.now, project_id=project.pk)
        picked = sql.one(_pick_sql(skip_locked=False), candidates)
        if picked is None:
            return None
    comparison = _comparison_from_row(project, picked)
    sql.execute(_TAKE_SLOT, [comparison.pk])
    assignment_id = sql.one(_INSERT_ASSIGNMENT, [*lease.insert_params(), comparison.pk, comparison.round])[0]
    return lease.assignment(assignment_id=assignment_id, comparison=comparison)


class _Lease:
    """The parts of a new assignment known before a comparison is picked."""

    def __init__(self, *, project, rater, version, now):
        self.project, self.rater, self.version, self.now = project, rater, version, now
        self.seed = _seed_source.getrandbits(62)
        self.expires_at = now + dt.timedelta(minutes=project.lease_minutes)

    def insert_params(self) -> list:
        """project_id, rater_id, guideline_version_id, seed, served_at, expires_at."""
        return [self.project.pk, self.rater.pk, self.version.pk, self.seed,
                sql.db_datetime(self.now), sql.db_datetime(self.expires_at)]

    def assignment(self, *, assignment_id: int, comparison: Comparison) -> Assignment:
        assignment = Assignment(
            id=assignment_id, project=self.project, comparison=comparison, rater=self.rater,
            guideline_version=self.version, round=comparison.round, seed=self.seed, served_at=self.now,
            expires_at=self.expires_at,
        )
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
    cid, round_, prompt_id, messages, messages_html, a_id, a_text, a_html, b_id, b_text, b_html = row
    prompt = Prompt(id=prompt_id, project=project, messages=sql.json_value(messages),
                    messages_html=sql.json_value(messages_html))
    return Comparison(
        id=cid, project=project, round=round_, prompt=prompt,
        response_a=Response(id=a_id, prompt=prompt, text=a_text, html=a_html),
        response_b=Response(id=b_id, prompt=prompt, text=b_text, html=b_html),
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
    row = sql.one(_LOCK_ASSIGNMENT + sql.for_update("a"), [sql.db_datetime(now), idempotency_key, assignment_id, rater.pk])
    if row is None:
        raise NotFound("no such assignment of yours")
    (_, project_id, comparison_id, version_id, status, seed, served_at, live,
     scale, allow_both_bad, rationale_required, earlier_id, earlier_assignment_id) = row
    if earlier_id is None and status == Assignment.Status.SUBMITTED:
        # We may have waited for the lock on a concurrent submit with this very key: its judgment
        # committed after this statement's snapshot, so look again with a fresh one.
        earlier_id, earlier_assignment_id = sql.one(_JUDGMENT_BY_KEY, [rater.pk, idempotency_key]) or (None, None)
    if earlier_id is not None:
        if earlier_assignment_id != assignment_id:
            raise Conflict("this Idempotency-Key was already used for another assignment", field="Idempotency-Key")
        return Judgment.objects.get(pk=earlier_id), False
    project = sql.partial_instance(Project, id=project_id, scale=scale, allow_both_bad=bool(allow_both_bad),
                                   rationale_required=bool(rationale_required))
    _validate_answer(project=project, choice=choice, strength=strength, rationale=rationale, flags=flags,
                     active_ms=active_ms)
    previous = None
    if status == Assignment.Status.SUBMITTED:
        previous = Judgment.objects.filter(assignment_id=assignment_id, superseded_by__isnull=True).order_by("-id").first()
    elif not live:
        raise LeaseLost(
            "your lease on this task ended (it expired or was skipped) and the pair went back to the pool; "
            "this judgment was not saved. Ask for the next task."
        )
    left_is_a = left_is_a_from_seed(seed)
    judgment = Judgment(
        assignment_id=assignment_id, comparison_id=comparison_id, rater=rater, guideline_version_id=version_id,
        choice=canonical_choice(choice, left_is_a), choice_displayed=choice, display_order="AB" if left_is_a else "BA",
        strength=strength, rationale=rationale, flags=flags, served_at=sql.read_datetime(served_at), submitted_at=now,
        active_ms=active_ms, idempotency_key=idempotency_key, supersedes=previous,
    )
    _insert_judgment(judgment, first=previous is None)
    audit_record(
        actor=rater, action="judgment.superseded" if previous else "judgment.submitted", obj=judgment,
        project_id=project_id,
        payload={"assignment_id": assignment_id, "comparison_id": comparison_id,
                 "guideline_version_id": version_id, "choice": judgment.choice,
                 "strength": strength, "supersedes": previous.pk if previous else None},
    )
    return judgment, True


# Locks the assignment and, in the same round trip, looks up the idempotency key.
_LOCK_ASSIGNMENT = """
    SELECT a.id, a.project_id, a.comparison_id, a.guideline_version_id, a.status, a.seed, a.served_at,
           a.status = 'leased' AND a.expires_at > %s,
           p.scale, p.allow_both_bad, p.rationale_required, k.id, k.assignment_id
    FROM comparisons_assignment a
    JOIN projects_project p ON p.id = a.project_id
    LEFT JOIN comparisons_judgment k ON k.rater_id = a.rater_id AND k.idempotency_key = %s
    WHERE a.id = %s AND a.rater_id = %s"""
_JUDGMENT_BY_KEY = "SELECT id, assignment_id FROM comparisons_judgment WHERE rater_id = %s AND idempotency_key = %s"
_JUDGMENT_COLUMNS = """(assignment_id, comparison_id, rater_id, guideline_version_id, choice, choice_displayed,
    display_order, strength, rationale, flags, served_at, submitted_at, active_ms, idempotency_key, supersedes_id)"""
_JUDGMENT_VALUES = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_INSERT_JUDGMENT = f"INSERT INTO comparisons_judgment {_JUDGMENT_COLUMNS} VALUES {_JUDGMENT_VALUES} RETURNING id"
_MARK_SUBMITTED = "UPDATE comparisons_assignment SET status = 'submitted', finished_at = %s WHERE id = %s"
_COUNT_JUDGED = "UPDATE comparisons_comparison SET judged = judged + 1 WHERE id = %s"
# PostgreSQL: a first judgment and the two counters it moves, in one round trip.
_INSERT_FIRST_JUDGMENT_PG = f"""
    WITH submitted AS ({_MARK_SUBMITTED}), judged AS ({_COUNT_JUDGED})
    {_INSERT_JUDGMENT}"""
_FLAGS_FIELD = Judgment._meta.get_field("flags")


def _insert_judgment(j: Judgment, *, first: bool) -> None:
    params = [
        j.assignment_id, j.comparison_id, j.rater_id, j.guideline_version_id, j.choice, j.choice_displayed,
        j.display_order, j.strength, j.rationale, _FLAGS_FIELD.get_db_prep_value(j.flags, connection),
        sql.db_datetime(j.served_at), sql.db_datetime(j.submitted_at), j.active_ms, j.idempotency_key,
        j.supersedes_id,
    ]
    if first and connection.vendor == "postgresql":
        j.pk = sql.one(_INSERT_FIRST_JUDGMENT_PG, [sql.db_datetime(j.submitted_at), j.assignment_id, j.comparison_id, *params])[0]
    else:
        j.pk = sql.one(_INSERT_JUDGMENT, params)[0]
        if first:
            sql.execute(_MARK_SUBMITTED, [sql.db_datetime(j.submitted_at), j.assignment_id])
            sql.execute(_COUNT_JUDGED, [j.comparison_id])
    j._state.adding = False


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
