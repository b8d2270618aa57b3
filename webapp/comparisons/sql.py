"""Hand-written SQL of the comparisons app: the rater hot path, next task and submit (why:
webapp/core/sql.py), and the lookups and COPY of imports. Everything else in the app uses the
ORM.

Column lists come from the models, status values are parameters, rows are read by name. The
PostgreSQL-only statements do in one round trip what SQLite does step by step; the suite runs on
both, so both paths are tested.
"""
import itertools
import json

from django.db import models
from django.utils import timezone

from webapp.comparisons.models import Assignment, Judgment
from webapp.core import sql
from webapp.guidelines import sql as guideline_sql

LEASED, SUBMITTED = Assignment.Status.LEASED.value, Assignment.Status.SUBMITTED.value

# The status is part of the statement, not a parameter: psycopg prepares the hot statements and
# PostgreSQL soon switches to a generic plan, which can use the partial index of live leases
# (assignment_live_leases) only when the status is a literal. With a parameter the lookup scanned
# the whole assignment table (2-3 ms at 9k rows, growing with the table).
LIVE_LEASE_SQL = f"""
    SELECT id FROM comparisons_assignment
    WHERE project_id = %s AND rater_id = %s AND status = '{LEASED}' AND expires_at > %s LIMIT 1"""
# Everything a next-task call must know before it claims, in one query: the guideline gate
# (the guidelines app's rule, wrapped) and the rater's live lease in this project, if any.
_GATE = f"""
    SELECT s.id AS version_id, s.number, s.sha256, s.acknowledged, s.quiz_pending, ({LIVE_LEASE_SQL}) AS live_id
    FROM ({guideline_sql.CURRENT_VERSION_STATUS_SQL}) s"""
# Closest to completion first, never a pair this rater had in the comparison's current round.
# (A consistency re-serve always has its original beside it: `repeat_of_id IS NULL` changes
# nothing but lets the lookup use the partial unique index assignment_once_per_rater_round.)
_CANDIDATES = """
    FROM comparisons_comparison c
    WHERE c.project_id = %s AND c.taken < %s
      AND NOT EXISTS (SELECT 1 FROM comparisons_assignment seen
                      WHERE seen.comparison_id = c.id AND seen.rater_id = %s AND seen.round = c.round
                        AND seen.repeat_of_id IS NULL)
    ORDER BY c.taken DESC, c.id LIMIT 1"""
# What a rater is served of the picked comparison `picked` (services._comparison_from_row reads it).
_SERVED_COLUMNS = """
    picked.id AS comparison_id, picked.round, p.id AS prompt_id, p.messages, p.messages_html,
    ra.id AS a_id, ra.text AS a_text, ra.html AS a_html, rb.id AS b_id, rb.text AS b_text, rb.html AS b_html"""
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
# A new lease: every Assignment column, in field order. The claim statement computes the two
# taken from the picked comparison; everything else is a parameter (assignment_params).
_PICKED_ASSIGNMENT_FIELDS = {"comparison_id": "picked.id", "round": "picked.round"}
_ASSIGNMENT_FIELDS = sql.insert_fields(Assignment)
_ASSIGNMENT_PARAMS = sql.param_readers(sql.insert_fields(Assignment, computed=tuple(_PICKED_ASSIGNMENT_FIELDS)))
_ALL_ASSIGNMENT_PARAMS = sql.param_readers(_ASSIGNMENT_FIELDS)
_INSERT_ASSIGNMENT = f"""
    INSERT INTO comparisons_assignment {sql.insert_columns(Assignment)}
    VALUES ({", ".join(["%s"] * len(_ASSIGNMENT_FIELDS))}) RETURNING id"""
# PostgreSQL: pick, take the slot and lease it in one statement (one round trip, no BEGIN/COMMIT).
# The picked row stays locked until the statement ends, so the slot count cannot overshoot.
_CLAIM_PG = f"""
    WITH picked AS (
        SELECT {_PICKED_COLUMNS} {_CANDIDATES}
        FOR UPDATE OF c SKIP LOCKED),
    slot AS (UPDATE comparisons_comparison c SET taken = c.taken + 1 FROM picked WHERE c.id = picked.id),
    leased AS (
        INSERT INTO comparisons_assignment {sql.insert_columns(Assignment)}
        SELECT {", ".join(_PICKED_ASSIGNMENT_FIELDS.get(f.attname, "%s") for f in _ASSIGNMENT_FIELDS)} FROM picked
        RETURNING id)
    SELECT leased.id AS assignment_id, {_SERVED_COLUMNS}
    FROM leased CROSS JOIN picked
    {_SERVED_JOINS}"""


# --- Consistency re-serves (Project.consistency_fraction) ------------------------------------
# One of the rater's own judged assignments, not a re-serve itself nor re-served yet, followed by
# at least `gap` judgments of theirs (it finished before their gap-th latest): picked at random,
# served with what a pick serves (the original's round, not the comparison's).
_REPEAT_ORIGINAL = """
    SELECT a.id AS original_id, a.seed AS original_seed, c.id, a.round, c.prompt_id, c.response_a_id, c.response_b_id
    FROM comparisons_assignment a JOIN comparisons_comparison c ON c.id = a.comparison_id
    WHERE a.project_id = %s AND a.rater_id = %s AND a.status = %s AND a.repeat_of_id IS NULL
      AND a.finished_at < (SELECT g.finished_at FROM comparisons_assignment g
                           WHERE g.project_id = %s AND g.rater_id = %s AND g.status = %s
                           ORDER BY g.finished_at DESC LIMIT 1 OFFSET %s)
      AND NOT EXISTS (SELECT 1 FROM comparisons_assignment r WHERE r.repeat_of_id = a.id)
    ORDER BY random() LIMIT 1"""
_PICK_REPEAT = f"""
    SELECT picked.original_id, picked.original_seed, {_SERVED_COLUMNS}
    FROM ({_REPEAT_ORIGINAL}) picked
    {_SERVED_JOINS}"""
# A concurrent call of the same rater may have re-served the same original a moment ago: the
# one-to-one refuses the second, which then returns no id (and the caller serves a new pair).
_INSERT_REPEAT = f"""
    INSERT INTO comparisons_assignment {sql.insert_columns(Assignment)}
    VALUES ({", ".join(["%s"] * len(_ASSIGNMENT_FIELDS))}) ON CONFLICT DO NOTHING RETURNING id"""


def pick_repeat(*, project_id: int, rater_id: int, min_gap: int):
    """An original to re-serve to the rater (original_id, original_seed and what a pick serves), or None."""
    return sql.named_one(_PICK_REPEAT, [project_id, rater_id, SUBMITTED, project_id, rater_id, SUBMITTED, min_gap - 1])


def lease_repeat(lease: Assignment) -> int | None:
    """Insert the re-serve's lease (no slot taken); its id, or None when the original was just re-served."""
    row = sql.one(_INSERT_REPEAT, sql.insert_params(lease, _ALL_ASSIGNMENT_PARAMS))
    return None if row is None else row[0]


def serving_gate(*, project_id: int, rater_id: int, now):
    """(version_id, number, sha256, acknowledged, quiz_pending, live_id) by name, or None when the
    project has no guideline."""
    status = guideline_sql.current_version_status_params(user_id=rater_id, project_id=project_id)
    return sql.named_one(_GATE, [project_id, rater_id, sql.db_datetime(now), *status])


def live_lease_id(*, project_id: int, rater_id: int, now) -> int | None:
    row = sql.one(LIVE_LEASE_SQL, [project_id, rater_id, sql.db_datetime(now)])
    return None if row is None else row[0]


def claim(*, project_id: int, overlap: int, rater_id: int, lease: Assignment):
    """PostgreSQL: pick, take and lease in one statement; the served row by name, or None."""
    params = sql.insert_params(lease, _ASSIGNMENT_PARAMS)
    return sql.named_one(_CLAIM_PG, [project_id, overlap, rater_id, *params])


def pick(*, project_id: int, overlap: int, rater_id: int, skip_locked: bool):
    """The next comparison for the rater, locked (SQLite: under the write lock), by name; or None."""
    return sql.named_one(_pick_sql(skip_locked=skip_locked), [project_id, overlap, rater_id])


def take_slot_and_lease(lease: Assignment) -> int:
    """SQLite's step-by-step claim of the picked comparison; return the new assignment's id."""
    sql.execute(_TAKE_SLOT, [lease.comparison_id])
    return sql.one(_INSERT_ASSIGNMENT, sql.insert_params(lease, _ALL_ASSIGNMENT_PARAMS))[0]


# Locks the assignment and, in the same round trip, looks up the idempotency key.
_LOCK_ASSIGNMENT = """
    SELECT a.id, a.project_id, a.comparison_id, a.guideline_version_id, a.status, a.seed, a.served_at,
           a.repeat_of_id, a.status = %s AND a.expires_at > %s AS live,
           p.scale, p.allow_both_bad, p.rationale_required, k.id AS earlier_id, k.assignment_id AS earlier_assignment_id
    FROM comparisons_assignment a
    JOIN projects_project p ON p.id = a.project_id
    LEFT JOIN comparisons_judgment k ON k.rater_id = a.rater_id AND k.idempotency_key = %s
    WHERE a.id = %s AND a.rater_id = %s"""
_JUDGMENT_BY_KEY = "SELECT id, assignment_id FROM comparisons_judgment WHERE rater_id = %s AND idempotency_key = %s"
_JUDGMENT_FIELDS = sql.insert_fields(Judgment)
_JUDGMENT_PARAMS = sql.param_readers(_JUDGMENT_FIELDS)
_INSERT_JUDGMENT = f"""
    INSERT INTO comparisons_judgment {sql.insert_columns(Judgment)}
    VALUES ({", ".join(["%s"] * len(_JUDGMENT_FIELDS))}) RETURNING id"""
_MARK_SUBMITTED = "UPDATE comparisons_assignment SET status = %s, finished_at = %s WHERE id = %s"
_COUNT_JUDGED = "UPDATE comparisons_comparison SET judged = judged + 1 WHERE id = %s"
# PostgreSQL: a first judgment and the two counters it moves, in one round trip. A re-serve's
# first judgment marks its assignment submitted but counts nothing toward the overlap.
_INSERT_FIRST_JUDGMENT_PG = f"""
    WITH submitted AS ({_MARK_SUBMITTED}), judged AS ({_COUNT_JUDGED})
    {_INSERT_JUDGMENT}"""
_INSERT_FIRST_REPEAT_JUDGMENT_PG = f"""
    WITH submitted AS ({_MARK_SUBMITTED})
    {_INSERT_JUDGMENT}"""


def lock_assignment(*, assignment_id: int, rater_id: int, idempotency_key: str, now):
    """The rater's assignment, locked, with its project's answer rules and the judgment already
    stored under `idempotency_key` (earlier_id, earlier_assignment_id), by name; or None."""
    statement = _LOCK_ASSIGNMENT + sql.for_update("a")
    return sql.named_one(statement, [LEASED, sql.db_datetime(now), idempotency_key, assignment_id, rater_id])


def judgment_by_key(*, rater_id: int, idempotency_key: str) -> tuple[int | None, int | None]:
    """(judgment id, assignment id) stored under the key, read with a fresh snapshot."""
    return sql.one(_JUDGMENT_BY_KEY, [rater_id, idempotency_key]) or (None, None)


def insert_judgment(judgment: Judgment, *, first: bool, postgresql: bool) -> int:
    """Insert the judgment; a first one also marks its assignment submitted and (unless it is a
    consistency re-serve's) counts it toward the comparison's overlap."""
    params = sql.insert_params(judgment, _JUDGMENT_PARAMS)
    submitted_at = sql.db_datetime(judgment.submitted_at)
    if first and postgresql:
        if judgment.repeat:
            return sql.one(_INSERT_FIRST_REPEAT_JUDGMENT_PG, [SUBMITTED, submitted_at, judgment.assignment_id, *params])[0]
        counters = [SUBMITTED, submitted_at, judgment.assignment_id, judgment.comparison_id]
        return sql.one(_INSERT_FIRST_JUDGMENT_PG, [*counters, *params])[0]
    judgment_id = sql.one(_INSERT_JUDGMENT, params)[0]
    if first:
        sql.execute(_MARK_SUBMITTED, [SUBMITTED, submitted_at, judgment.assignment_id])
        if not judgment.repeat:
            sql.execute(_COUNT_JUDGED, [judgment.comparison_id])
    return judgment_id


def check_references_as_rows_arrive() -> None:
    """Check this transaction's foreign keys row by row instead of at COMMIT (imports, PostgreSQL).

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL would queue one check per
    reference (eight per imported pair) and run them all at COMMIT, a long tail with the importer
    idle. Checked as each COPY row arrives, that work overlaps with parsing and rendering the next
    chunk. Rows go in parents first (prompts, responses, comparisons), so every check passes.
    """
    if sql.connection.vendor == "postgresql":
        sql.execute("SET CONSTRAINTS ALL IMMEDIATE", [])


# --- Imports: lookups by hash and rows written with COPY (PostgreSQL) -----------------------------
# An import writes hundreds of thousands of rows. bulk_create builds a model instance per row and
# sends each column as a PostgreSQL array (UNNEST), which cost more CPU than rendering the text;
# COPY streams the rows in psycopg's C code. The ids are taken from the table's sequence first,
# so the caller knows them without reading the rows back. Each chunk's lookups pass their 1,000
# hashes as one array (= ANY): the ORM's IN (%s, %s, …) made Django and psycopg handle every
# placeholder in Python, about 7 % of the import's CPU. SQLite keeps the ORM for both.

def copy_supported() -> bool:
    return sql.connection.vendor == "postgresql"


def rows_matching(model, columns: tuple[str, ...], *, where: dict, any_of: tuple[str, list]) -> list[tuple]:
    """`columns` (attnames) of the rows of `model` whose `where` columns equal their values and whose
    `any_of` column is one of the listed values."""
    column, values = any_of
    if not values:
        return []
    if not copy_supported():
        return list(model.objects.filter(**where, **{f"{column}__in": values}).values_list(*columns))
    field = model._meta.get_field
    conditions = [f"{field(name).column} = %s" for name in where] + [f"{field(column).column} = ANY(%s)"]
    statement = (f"SELECT {', '.join(field(name).column for name in columns)} FROM {model._meta.db_table} "
                 f"WHERE {' AND '.join(conditions)}")
    with sql.connection.cursor() as cursor:
        # Never prepared: an import repeats this statement once per chunk, and a prepared statement
        # may settle on a generic plan made while the tables were small, a sequential scan that then
        # reads the whole growing table for every chunk (quadratic: 100,000 pairs took hours). Not
        # `plan_cache_mode = force_custom_plan` either: that also re-planned every foreign-key check.
        cursor.cursor.execute(statement, [*where.values(), list(values)], prepare=False)
        return cursor.fetchall()


def copy_rows(model, rows: list[dict]) -> list[int]:
    """Insert `rows` (attname -> value, the same keys in every row; missing fields get the model's
    default, auto_now_add fields the current time) into `model`'s table with COPY and return their
    ids, in order."""
    if not rows:
        return []
    table = model._meta.db_table
    fields = sql.insert_fields(model)
    with sql.connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [table, len(rows)])
        ids = [row[0] for row in cursor.fetchall()]
        # Column by column: one comprehension per column costs less than a call per value.
        values = [ids] + [_column_values(field, rows) for field in fields]
        columns = ", ".join(["id"] + [f.column for f in fields])
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in zip(*values):
                copy.write_row(row)
    return ids


def _column_values(field, rows: list[dict]):
    """The COPY values of one column for every row: JSON as text; a field the rows leave out gets
    its default (or the current time for auto_now_add), the same for all of them."""
    name = field.attname
    if name not in rows[0]:
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            value = timezone.now()
        else:  # the model's default, or what Django would store for a blank field ("" for text)
            value = _json_text(field, field.get_default()) if isinstance(field, models.JSONField) else field.get_default()
        return itertools.repeat(value, len(rows))
    if isinstance(field, models.JSONField):
        return [_json_text(field, row[name]) for row in rows]
    return [row[name] for row in rows]


def _json_text(field, value):
    return None if value is None else json.dumps(value, cls=field.encoder)
