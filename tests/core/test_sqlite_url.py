"""A SQLite database named by DATABASE_URL (dj-database-url's sqlite:///path) is tuned like the default one.

Settings are read once per process, so each case runs a fresh interpreter with its own environment.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PROBE = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    pragmas = {name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
               for name in ("journal_mode", "busy_timeout", "synchronous")}
print(json.dumps({"config": connection.settings_dict, "pragmas": pragmas,
                  "transaction_mode": connection.transaction_mode}, default=str))
"""


def sqlite_env(tmp_path: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "WB_SQLITE_PATH", "WB_SQLITE_TEST_PATH", "CELERY_BROKER_URL")}
    return {**env, "DJANGO_SETTINGS_MODULE": "webapp.settings", "WB_VAR_DIR": str(tmp_path / "var"), **extra}


def probe(env: dict, cwd: Path = ROOT) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_sqlite_url_gets_the_same_settings_and_tuning_as_the_default(tmp_path):
    default = probe(sqlite_env(tmp_path))
    named = probe(sqlite_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/elsewhere.sqlite3"))
    assert named["config"]["NAME"] == f"{tmp_path}/elsewhere.sqlite3"
    assert default["config"]["NAME"] == f"{tmp_path}/var/workbench.sqlite3"
    for key in set(default["config"]) | set(named["config"]):
        if key != "NAME":
            assert named["config"].get(key) == default["config"].get(key), key
    # What the settings are for, read back from the live connection:
    assert named["pragmas"] == default["pragmas"] == {"journal_mode": "wal", "busy_timeout": 30000, "synchronous": 1}
    assert named["transaction_mode"] == default["transaction_mode"] == "IMMEDIATE"


def test_a_relative_sqlite_url_is_a_file_under_the_current_folder_which_it_creates(tmp_path):
    named = probe(sqlite_env(tmp_path, DATABASE_URL="sqlite:///elsewhere/wb.sqlite3"), cwd=tmp_path)
    assert named["config"]["NAME"] == "elsewhere/wb.sqlite3"
    assert named["pragmas"]["journal_mode"] == "wal"
    assert (tmp_path / "elsewhere" / "wb.sqlite3").is_file()


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="about SQLite: the SQLite pass runs it")
def test_raters_racing_on_a_sqlite_url_get_no_errors(tmp_path):
    # The racing-rater tests (threads with their own connections, committed data), on a database named by URL.
    env = sqlite_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/race.sqlite3",
                     WB_SQLITE_TEST_PATH=str(tmp_path / "race-test.sqlite3"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/comparisons/test_concurrency.py",
         "-k", "race or concurrent"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "locked" not in result.stdout
