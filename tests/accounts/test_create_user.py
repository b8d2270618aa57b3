"""manage.py create_user checks usernames and passwords as the admin does; demo set-ups can opt out for passwords."""
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from webapp.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("username, reason", [
    ("bad name", "Enter a valid username"),
    ("semi;colon", "Enter a valid username"),
    ("x" * 151, "at most 150 characters"),
    ("", "cannot be blank"),
])
def test_it_refuses_an_invalid_username(username, reason):
    with pytest.raises(CommandError, match=reason):
        call_command("create_user", username, "--role", "rater", "--password", "a-long-unusual-passphrase")
    assert not get_user_model().objects.exists() and not AuditEvent.objects.exists()


@pytest.mark.parametrize("password, reason", [
    ("short1", "too short"),
    ("password123", "too common"),
    ("8327461950", "entirely numeric"),
    ("frankfrank99", "too similar to the username"),
])
def test_it_refuses_a_weak_password(password, reason):
    with pytest.raises(CommandError, match=f"password: .*{reason}"):
        call_command("create_user", "frankfrank", "--role", "rater", "--password", password)
    assert not get_user_model().objects.exists() and not AuditEvent.objects.exists()


def test_it_checks_the_password_from_the_environment_too(monkeypatch):
    monkeypatch.setenv("WB_PASSWORD", "12345678")
    with pytest.raises(CommandError, match="too common"):
        call_command("create_user", "frank", "--role", "rater")


def test_it_accepts_a_demo_password_only_when_asked_and_still_checks_the_username():
    call_command("create_user", "frank", "--role", "rater", "--password", "demo", "--demo-password",
                 stdout=io.StringIO())
    assert get_user_model().objects.get(username="frank").check_password("demo")
    with pytest.raises(CommandError, match="Enter a valid username"):
        call_command("create_user", "fr ank", "--role", "rater", "--password", "demo", "--demo-password")


def test_it_accepts_a_good_password():
    out = io.StringIO()
    call_command("create_user", "frank", "--role", "lead", "--password", "violet-harbour-tangent", stdout=out)
    assert "created lead frank" in out.getvalue()
    assert get_user_model().objects.get(username="frank").check_password("violet-harbour-tangent")


def test_the_command_exits_non_zero_with_the_reason_on_stderr(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WB_SQLITE_PATH")}
    env["WB_VAR_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "manage.py", "create_user", "frank", "--role", "rater",
                             "--password", "short"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "password: This password is too short" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
