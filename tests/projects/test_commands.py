import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from webapp.comparisons.models import Comparison
from webapp.guidelines.models import GuidelineVersion
from webapp.projects.models import Project

pytestmark = pytest.mark.django_db


def test_it_creates_a_project_and_publishes_a_guideline(tmp_path):
    out = io.StringIO()
    call_command("create_project", "p1", "--name", "P one", "--overlap", "5", "--scale", "seven_point", stdout=out)
    project = Project.objects.get(slug="p1")
    assert (project.overlap, project.scale) == (5, "seven_point")
    guide = tmp_path / "g.md"
    guide.write_text("# Judge carefully\n", encoding="utf-8")
    call_command("publish_guideline", "p1", str(guide), "--note", "first", stdout=out)
    assert GuidelineVersion.objects.get(project=project).number == 1
    assert "sha256" in out.getvalue()


def test_it_rejects_a_bad_overlap_and_a_duplicate_slug():
    with pytest.raises(CommandError, match="overlap"):
        call_command("create_project", "p2", "--name", "x", "--overlap", "0")
    call_command("create_project", "p3", "--name", "x", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_project", "p3", "--name", "x")


def test_it_seeds_the_demo_idempotently():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Project.objects.count(), Comparison.objects.count(), GuidelineVersion.objects.count())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert (Project.objects.count(), Comparison.objects.count(), GuidelineVersion.objects.count()) == counts
    assert counts[1] == 60 + 1 + 40
    assert "alice" in out.getvalue() and "http://127.0.0.1:8000/" in out.getvalue()


def test_it_documents_every_command_with_help():
    for command in ("create_project", "publish_guideline", "import_comparisons", "create_user", "seed_demo",
                    "audit_verify", "set_quiz", "revoke_token"):
        result = subprocess.run([sys.executable, "manage.py", command, "--help"], capture_output=True, text=True)
        assert result.returncode == 0 and "usage:" in result.stdout, command


def test_it_sets_a_quiz_from_the_command_line(world):
    ids = list(Comparison.objects.order_by("pk").values_list("pk", flat=True)[:2])
    call_command("set_quiz", "demo", "--comparisons", ",".join(map(str, ids)), "--threshold", "50", stdout=io.StringIO())
    assert world.guideline.quiz.items.count() == 2 and world.guideline.quiz.threshold == 0.5
    with pytest.raises(CommandError, match="already has a quiz"):
        call_command("set_quiz", "demo", "--comparisons", str(ids[0]))


def test_it_creates_a_project_and_adds_members_in_the_admin(world):
    from django.test import Client

    from tests.conftest import PASSWORD
    from webapp.audit.models import AuditEvent

    admin = Client()
    admin.login(username="dave", password=PASSWORD)
    response = admin.post("/admin/projects/project/add/", {
        "slug": "p-admin", "name": "Made in the admin", "description": "", "overlap": "2", "scale": "binary",
        "lease_minutes": "10", "consistency_fraction": "0.05", "consistency_min_gap": "20",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0", "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000", "memberships-0-user": str(world.eve.pk),
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(slug="p-admin")
    assert project.overlap == 2 and project.members.filter(pk=world.eve.pk).exists()
    assert project.consistency_fraction == 0.05
    assert AuditEvent.objects.filter(action="project.created", project_id=project.pk).exists()
    assert AuditEvent.objects.filter(action="membership.added", project_id=project.pk,
                                     payload__member=world.eve.profile.pseudonym).exists()
