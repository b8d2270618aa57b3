import pytest
from django.test import Client

from tests.conftest import PASSWORD
from webapp.audit.models import AuditEvent
from webapp.core.errors import ValidationFailed
from webapp.projects.models import Project
from webapp.projects.services import project_settings_change

pytestmark = pytest.mark.django_db


def admin_form(project, **changes) -> dict:
    data = {"name": project.name, "description": project.description, "lease_minutes": str(project.lease_minutes),
            "consistency_fraction": str(project.consistency_fraction),
            "consistency_min_gap": str(project.consistency_min_gap),
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000"}
    if project.allow_both_bad:
        data["allow_both_bad"] = "on"
    data.update(changes)
    return data


def test_it_changes_settings_through_the_audited_service(world):
    diff = project_settings_change(project=world.project, actor=world.carol, lease_minutes=25, name="Demo project")

    assert diff == {"lease_minutes": {"from": 10, "to": 25}}
    assert Project.objects.get(pk=world.project.pk).lease_minutes == 25
    event = AuditEvent.objects.get(action="project.settings_changed")
    assert (event.actor, event.project_id, event.payload) == (world.carol, world.project.pk, diff)


def test_it_refuses_settings_that_would_make_judgments_incomparable(world):
    with pytest.raises(ValidationFailed, match="overlap cannot change") as refused:
        project_settings_change(project=world.project, actor=world.carol, overlap=5)

    assert refused.value.field == "overlap"
    assert not AuditEvent.objects.filter(action="project.settings_changed").exists()


def test_it_refuses_invalid_values_and_writes_nothing(world):
    with pytest.raises(ValidationFailed, match="lease_minutes"):
        project_settings_change(project=world.project, actor=world.carol, lease_minutes=0)

    assert Project.objects.get(pk=world.project.pk).lease_minutes == 10


def test_it_audits_settings_edited_in_the_admin(world):
    admin = Client()
    admin.login(username="dave", password=PASSWORD)

    response = admin.post(f"/admin/projects/project/{world.project.pk}/change/",
                          admin_form(world.project, lease_minutes="15", rationale_required="on"))

    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(pk=world.project.pk)
    assert (project.lease_minutes, project.rationale_required) == (15, True)
    event = AuditEvent.objects.get(action="project.settings_changed")
    assert event.actor == world.dave
    assert event.payload == {"lease_minutes": {"from": 10, "to": 15}, "rationale_required": {"from": False, "to": True}}


def test_the_admin_refuses_an_out_of_range_consistency_fraction_naming_it(world):
    admin = Client()
    admin.login(username="dave", password=PASSWORD)

    response = admin.post(f"/admin/projects/project/{world.project.pk}/change/",
                          admin_form(world.project, consistency_fraction="0.5"))

    assert response.status_code == 200 and "re-serve at most 0.2 of the tasks" in response.content.decode()
    assert Project.objects.get(pk=world.project.pk).consistency_fraction == 0.0
    assert not AuditEvent.objects.filter(action="project.settings_changed").exists()
