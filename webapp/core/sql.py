"""Hand-written SQL for the few statements on the rater hot path (next task, submit).

Building an ORM query costs about 1.5 ms of CPU per query on the 2-core target machine, ten
times the query itself (see bench/). Everything else in the app uses the ORM. Statements here
must run on PostgreSQL and SQLite alike; the only vendor differences are row locks.
"""
import json

from django.db import connection


def one(sql: str, params: list) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def db_datetime(value):
    """A datetime as the database stores it (SQLite keeps text, PostgreSQL a timestamptz)."""
    return connection.ops.adapt_datetimefield_value(value)


def for_update(table_alias: str, *, skip_locked: bool = False) -> str:
    """Row-lock clause; empty on SQLite, whose IMMEDIATE transactions already serialize writers."""
    if not connection.features.has_select_for_update:
        return ""
    return f" FOR UPDATE OF {table_alias}" + (" SKIP LOCKED" if skip_locked else "")


def json_value(value):
    """A JSON column as read by a raw cursor: Django has psycopg hand jsonb over as text, and
    SQLite stores text; the ORM decodes it, raw SQL must."""
    return json.loads(value) if isinstance(value, str) else value


def partial_instance(model, **values):
    """A model instance with only `values` loaded; the other fields are deferred, so a save()
    could only ever write these, never blank the rest. (from_db wants the model's field order.)"""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])
