import pytest
from django.test import Client

from tests.conftest import PASSWORD
from webapp.accounts.models import Profile
from webapp.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def change_form_data(user, role):
    profile = user.profile
    return {
        "username": user.username, "first_name": "", "last_name": "", "email": "", "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"), "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "profile-TOTAL_FORMS": "1", "profile-INITIAL_FORMS": "1", "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1", "profile-0-id": str(profile.pk), "profile-0-user": str(user.pk),
        "profile-0-role": role,
    }


def test_it_changes_a_role_in_the_admin_through_the_audited_service(world):
    admin = Client()
    admin.login(username="dave", password=PASSWORD)
    response = admin.post(f"/admin/auth/user/{world.alice.pk}/change/", change_form_data(world.alice, "lead"))
    assert response.status_code == 302, response.content.decode()[:2000]
    world.alice.refresh_from_db()
    assert Profile.objects.get(user=world.alice).role == "lead" and world.alice.is_staff
    event = AuditEvent.objects.get(action="user.role_changed")
    assert (event.actor, event.payload) == (world.dave, {"from": "rater", "to": "lead"})


def test_it_keeps_leads_out_of_user_management(world):
    lead = Client()
    lead.login(username="carol", password=PASSWORD)
    assert lead.get("/admin/auth/user/").status_code == 403


def test_it_gives_a_user_added_in_the_admin_a_role_and_pseudonym(world):
    admin = Client()
    admin.login(username="dave", password=PASSWORD)
    response = admin.post("/admin/auth/user/add/", {
        "username": "grace", "password1": "a-long-password-1", "password2": "a-long-password-1",
        "usable_password": "true",
        "profile-TOTAL_FORMS": "1", "profile-INITIAL_FORMS": "0", "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1", "profile-0-role": "lead",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    profile = Profile.objects.get(user__username="grace")
    assert profile.role == "lead" and profile.pseudonym.startswith("R-") and profile.user.is_staff
    assert AuditEvent.objects.filter(action="user.created", payload__username="grace").exists()
