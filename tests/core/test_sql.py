"""Where hand-written SQL may live and how it is written (webapp/core/sql.py explains why it exists)."""
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from webapp.comparisons import sql as comparison_sql
from webapp.comparisons.models import Assignment, Judgment
from webapp.core import sql

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
RUNS_SQL = re.compile(r"\.cursor\(|\bsql\.(one|execute|named_one)\(|\bnamed_one\(|\.raw\(|\.extra\(")


def python_files():
    return [path for path in WEBAPP.rglob("*.py") if "migrations" not in path.parts]


def test_it_runs_hand_written_sql_only_from_one_sql_module_per_app():
    outside = [str(path.relative_to(WEBAPP)) for path in python_files()
               if path.name != "sql.py" and RUNS_SQL.search(path.read_text())]

    assert outside == []


def test_it_passes_status_values_as_parameters_not_literals():
    choices = [getattr(model, "Status", None) for model in apps.get_models()]
    statuses = {value for status in choices
                if isinstance(status, type) and issubclass(status, models.TextChoices) for value in status.values}
    assert {"leased", "submitted", "pending"} <= statuses
    for path in WEBAPP.rglob("sql.py"):
        literals = set(re.findall(r"'([a-z_]+)'", path.read_text()))
        assert not literals & statuses, f"{path}: {sorted(literals & statuses)}"


def test_it_takes_insert_column_lists_from_the_models():
    for model, statement in ((Judgment, comparison_sql._INSERT_JUDGMENT), (Assignment, comparison_sql._INSERT_ASSIGNMENT)):
        listed = re.search(r"\(([^)]*)\)", statement).group(1).split(", ")
        assert listed == [f.column for f in model._meta.concrete_fields if not f.primary_key]


@pytest.mark.django_db
def test_it_reads_rows_by_name():
    row = sql.named_one("SELECT 1 AS one, 'x' AS letter", [])

    assert (row.one, row.letter) == (1, "x")
    assert sql.named_one("SELECT 1 AS one WHERE 1 = 0", []) is None
