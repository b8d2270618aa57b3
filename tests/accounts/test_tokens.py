import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.conftest import PASSWORD
from webapp.accounts.models import ApiToken
from webapp.accounts.services import token_revoke
from webapp.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def api_status(token: str) -> int:
    return Client().get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_it_revokes_a_token_through_the_audited_service_and_refuses_it_at_once(world, tokens):
    assert api_status(tokens["alice"]) == 200  # now in this process's token cache
    token = ApiToken.objects.get(user=world.alice)

    assert token_revoke(token=token, actor=world.dave) is True
    assert token_revoke(token=token, actor=world.dave) is False

    assert api_status(tokens["alice"]) == 401
    event = AuditEvent.objects.get(action="token.revoked")
    assert (event.actor, event.payload) == (world.dave, {"user_id": world.alice.pk, "prefix": token.prefix})


def test_it_revokes_tokens_from_the_admin_action(world, tokens):
    admin = Client()
    admin.login(username="dave", password=PASSWORD)
    token = ApiToken.objects.get(user=world.bob)

    response = admin.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [str(token.pk)]})

    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert AuditEvent.objects.get(action="token.revoked").actor == world.dave
    assert api_status(tokens["bob"]) == 401


def test_it_offers_no_way_to_edit_a_token_in_the_admin(world, tokens):
    admin = Client()
    admin.login(username="dave", password=PASSWORD)
    token = ApiToken.objects.get(user=world.bob)

    admin.post(f"/admin/accounts/apitoken/{token.pk}/change/", {"revoked_at_0": "2020-01-01", "revoked_at_1": "00:00"})

    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert not AuditEvent.objects.filter(action="token.revoked").exists()


def test_it_revokes_a_users_tokens_from_the_command_line(world, tokens):
    out = io.StringIO()
    call_command("revoke_token", "--user", "alice", "--as-user", "dave", stdout=out)

    assert "revoked 1 token(s)" in out.getvalue()
    assert api_status(tokens["alice"]) == 401 and api_status(tokens["bob"]) == 200
    assert AuditEvent.objects.get(action="token.revoked").actor == world.dave
    with pytest.raises(CommandError, match="no live tokens of alice"):
        call_command("revoke_token", "--user", "alice", stdout=io.StringIO())


def test_it_revokes_one_token_by_its_prefix(world, tokens):
    call_command("revoke_token", "--prefix", tokens["carol"][:8], stdout=io.StringIO())

    assert api_status(tokens["carol"]) == 401 and api_status(tokens["dave"]) == 200
