"""Helpers for the hand-written SQL of the rater hot path (next task, submit).

Building an ORM query costs about 1.5 ms of CPU per query on the 2-core target machine, ten
times the query itself, and each round trip to PostgreSQL costs the server a context switch and
psycopg's per-statement work (see bench/). So the hot path is a few hand-written statements;
everything else in the app uses the ORM. The statements run on PostgreSQL and SQLite alike,
except row locks and a few PostgreSQL-only statements that do in one round trip what SQLite
does step by step (data-modifying CTEs); the suite runs on both, so both paths are tested.

Each app keeps its statements in its own `sql.py` (this module holds the shared helpers): column
lists come from the models (`insert_fields`, `model_columns`), status values are parameters, and
rows are read by name (`named_one`), so a changed model cannot silently shift a tuple.
"""
import collections
import datetime as dt
import functools
import json

from django.db import DEFAULT_DB_ALIAS, connection, models
from django.utils import timezone


def one(sql: str, params: list) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def named_one(sql: str, params: list):
    """The first row as a named tuple (the statement's column names or AS aliases), or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        return None if row is None else _row_type(tuple(column[0] for column in cursor.description))._make(row)


@functools.cache
def _row_type(names: tuple[str, ...]):
    return collections.namedtuple("Row", names)


def execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def db_datetime(value):
    """A datetime as the database stores it (SQLite keeps text, PostgreSQL a timestamptz)."""
    return connection.ops.adapt_datetimefield_value(value)


def read_datetime(value):
    """A datetime column as read by a raw cursor: SQLite's comes back naive (it stores UTC)."""
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value, dt.timezone.utc)
    return value


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


def model_columns(model, alias: str) -> str:
    """All of `model`'s columns, in field order, as a SELECT list that `model_instance` reads back."""
    return ", ".join(f"{alias}.{f.column}" for f in model._meta.concrete_fields)


def insert_fields(model, *, computed: tuple[str, ...] = ()) -> list:
    """The fields an INSERT of `model` writes (every concrete field but the primary key), minus
    `computed` ones (attnames) whose values the statement computes itself."""
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in computed]


def insert_columns(model) -> str:
    """The INSERT column list of `model`, in field order: "(col, col, ...)"."""
    return "(" + ", ".join(f.column for f in insert_fields(model)) + ")"


def param_readers(fields) -> tuple:
    """How to read each of `fields` off an instance as a statement parameter: (attname, convert or
    None). Text, numbers, booleans and integer keys go as they are; the rest through the field's
    own get_db_prep_save (JSON, datetimes, ...). Made once per statement: on the hot path a
    get_db_prep_save per field would cost more than the statement's other Python work."""
    return tuple((f.attname, None if _passes_as_is(f) else _field_converter(f)) for f in fields)


def _passes_as_is(field) -> bool:
    if field.is_relation:
        field = field.target_field
    return isinstance(field, (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                              models.FloatField))


def _field_converter(field):
    if isinstance(field, models.DateTimeField):
        return db_datetime  # values here are aware datetimes already: skip the field's checks
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_value(value, connection)
    return lambda value: field.get_db_prep_save(value, connection)


def insert_params(instance, readers) -> list:
    """`instance`'s values as parameters, read as `readers` (param_readers) say."""
    return [getattr(instance, name) if convert is None else convert(getattr(instance, name))
            for name, convert in readers]


def model_instance(model, values):
    """A full model instance from the leading `model_columns` of a row, with the ORM's value
    conversions (JSON, SQLite datetimes), without the per-query set-up of Model.objects.raw()."""
    fields = model._meta.concrete_fields
    converted = [_convert(value, converters) for value, converters in zip(values, _converters(model, connection.vendor))]
    return model.from_db(DEFAULT_DB_ALIAS, [f.attname for f in fields], converted)


def _convert(value, converters):
    for converter, column in converters:
        value = converter(value, column, connection)
    return value


@functools.cache
def _converters(model, vendor: str) -> list:
    result = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        funcs = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        result.append([(func, column) for func in funcs])
    return result
