"""The PostgreSQL read path of exports: the selection as one query, rows read straight from psycopg.

Why: through the ORM an export read ~15k judgments/s (a WITH HOLD cursor that PostgreSQL
materialises before the first row, Django's per-row converters, comparisons fetched 500 ids at a
time). Here one streamed query walks the selected judgments by comparison id; the first
judgment of each comparison also carries its comparison's columns (a LATERAL lookup, fenced with
OFFSET 0 so it stays a per-row index lookup: pulled up into a join it became a hash join of every
text and a final sort that spilled 1 GB to disk at 1M judgments), so every text arrives once, no
second query is needed and the rows come out of the window already in order.

The selection itself is not written here: the judgment and comparison columns are the selectors'
querysets (judgment_rows, comparison_rows, passed in) compiled to SQL, so the filters stay defined once.
min_judgments is applied while grouping, as the ORM path does.
"""
import functools
import json
import queue
import threading
from collections.abc import Iterator

import psycopg
from django.db import connection
from django.db.models.expressions import RawSQL
from psycopg import IsolationLevel
from psycopg.types.string import TextLoader

from exporters import ComparisonRecord, JudgmentRecord
from webapp.accounts.services import pseudonym_for
from webapp.comparisons.models import Comparison
from webapp.exports import rows

# Rows are streamed (psycopg's cursor.stream, libpq's chunked-rows mode), not FETCHed from a named
# cursor: PostgreSQL only works on a cursor while a FETCH is outstanding, so it sat idle while
# Python parsed each batch; a streamed query keeps producing until the socket is full. Reading
# 1M judgments alone took 7.3 s instead of 9.5 s, and the whole export 9.5 s instead of 13.0 s.
ROWS_PER_CHUNK = 5000  # rows per result psycopg receives (a few MB of text; libpq 17 or later)
JUDGMENTS_PER_BATCH = 2000  # handed from the reading thread to the exporter at a time
BATCHES_AHEAD = 4  # bounded memory: at most this many batches wait
# For the reading thread's own transaction. Measured at 100k judgments: the sort by comparison
# spilled 20 MB to disk at the default 4 MB work_mem; JIT compilation cost more than it saved.
READ_SETTINGS = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off")
_J = len(rows.JUDGMENT_FIELDS)
_JUDGMENT_COLUMNS = ", ".join(f"j{i}" for i in range(_J))
_FIRST = _J  # column: true on a comparison's first judgment, the row that carries the comparison's columns
# The outer ORDER BY costs nothing: the nested loop keeps the window's order and the planner knows it.
_GROUPS_SQL = """
    SELECT w.*, t.*
    FROM (SELECT s.*, s.j1 IS DISTINCT FROM lag(s.j1) OVER (ORDER BY s.j1, s.j0) AS first
          FROM ({judgments}) AS s({columns})) AS w
    LEFT JOIN LATERAL ({comparison} OFFSET 0) AS t ON true
    ORDER BY w.j1, w.j0"""


def groups_sql(judgments, comparison_rows) -> str:
    """The whole read as one SQL text with its values inlined (Django's compose_sql quotes them
    as the ORM would). `judgments` is selectors.judgment_rows(...), `comparison_rows`
    selectors.comparison_rows."""
    # Only the first judgment of a comparison looks it up: for the others the key is NULL, which
    # the primary-key index answers at once (a separate "first" qual became a join filter,
    # checked after the lookup).
    first_only = RawSQL("CASE WHEN w.first THEN w.j1 END", ())
    comparison = _compiled(comparison_rows(Comparison.objects.filter(pk=first_only)))
    return _GROUPS_SQL.format(judgments=_compiled(judgments), columns=_JUDGMENT_COLUMNS, comparison=comparison)


def _compiled(queryset) -> str:
    text, params = queryset.query.sql_with_params()
    return connection.ops.compose_sql(text, params)


def export_groups(judgments, comparison_rows, *, min_judgments: int):
    """selectors.export_groups on PostgreSQL: same records, same order (arguments as groups_sql's).

    Inside a transaction the rows are read on the caller's connection (the selection includes its
    uncommitted rows). In autocommit a thread reads them on a connection of its own, in one
    REPEATABLE READ, READ ONLY transaction (one snapshot), a few thousand judgments ahead of the
    caller: PostgreSQL and the socket work while the exporter aggregates, and the caller's
    connection stays free for its progress ticks."""

    def groups() -> Iterator[tuple[ComparisonRecord, list[JudgmentRecord]]]:
        query = groups_sql(judgments, comparison_rows)
        if connection.in_atomic_block:
            connection.ensure_connection()
            yield from _read_groups(connection.connection, query, min_judgments)
            return
        connect = functools.partial(connection.get_new_connection, connection.get_connection_params())
        reader = _Reader(functools.partial(_read_groups, query=query, min_judgments=min_judgments), connect)
        try:
            while (batch := reader.next_batch()) is not None:
                yield from batch
        finally:
            reader.stop()  # also when the consumer stops early (a cancelled job)

    return groups


class _Reader:
    """The reading thread: batches of groups through a bounded queue; its failure is raised in
    the consumer; stop() ends it (and closes its connection) wherever it is."""

    def __init__(self, read, connect):
        self._read = read  # read(connection) -> the groups
        self._connect = connect
        self._batches: queue.Queue = queue.Queue(maxsize=BATCHES_AHEAD)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="export-reader", daemon=True)
        self._thread.start()

    def next_batch(self) -> list | None:
        item = self._batches.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = self._connect()
            try:
                conn.isolation_level = IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                conn.autocommit = False
                for setting in READ_SETTINGS:
                    conn.execute(setting)
                batch, judgments = [], 0
                for group in self._read(conn):
                    batch.append(group)
                    judgments += len(group[1])
                    if judgments >= JUDGMENTS_PER_BATCH:
                        if not self._put(batch):
                            return
                        batch, judgments = [], 0
                if batch and not self._put(batch):
                    return
            finally:
                conn.close()  # rolls the read-only transaction back
            self._put(None)
        except BaseException as exc:  # noqa: BLE001 - raised in the consumer
            self._put(exc)

    def _put(self, item) -> bool:
        while not self._stopping.is_set():
            try:
                self._batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False


def _read_groups(conn, query: str, min_judgments: int) -> Iterator[tuple[ComparisonRecord, list[JudgmentRecord]]]:
    chunk = ROWS_PER_CHUNK if psycopg.pq.version() >= 170000 else 1  # older libpq: one row at a time
    with conn.cursor() as cursor:
        cursor.adapters.register_loader("jsonb", TextLoader)  # parsed here: flags are nearly always "[]"
        comparison, judgments = None, []
        flags_of: dict[str, tuple[str, ...]] = {}  # the few distinct flag lists, each parsed once
        for row in cursor.stream(query, size=chunk):  # a stopped stream cancels the query
            if row[_FIRST]:
                if comparison is not None and len(judgments) >= min_judgments:
                    yield comparison, judgments
                comparison, judgments = _comparison(row), []
            flags = flags_of.get(row[12])
            if flags is None:
                flags = flags_of[row[12]] = tuple(json.loads(row[12]) or ())
            judgments.append(_judgment(row, flags))
        if comparison is not None and len(judgments) >= min_judgments:
            yield comparison, judgments


def _judgment(row, flags: tuple[str, ...]) -> JudgmentRecord:
    """rows.judgment_record for a row of this query (by position: it is most of the per-row
    cost; the tests compare every field with the ORM path)."""
    return _make_judgment((
        row[0], row[1], row[3] or pseudonym_for(f"user:{row[2]}"), row[14],  # id, comparison, rater, origin
        row[4], row[5], row[6], row[7], row[8] or None, row[9],  # guideline version, sha256, choice, strength, ...
        row[10], row[11], flags, row[13], row[15]))  # served, submitted, flags, round, repeat


_make_judgment = JudgmentRecord._make


def _comparison(row) -> ComparisonRecord:
    values = list(row[_FIRST + 1:])
    values[2] = json.loads(values[2])  # the prompt's messages
    return rows.comparison_record(values)
