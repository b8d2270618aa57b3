import io

import pytest
from django.core.management import CommandError, call_command
from django.contrib.auth import get_user_model
from django.test import Client

from prefkit.pseudonyms import pseudonym
from tests.conftest import PASSWORD
from webapp.accounts.models import ApiToken, LoginFailure, hash_token
from webapp.accounts.services import user_create, user_pseudonym
from webapp.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_it_prints_only_the_token_with_create_user_token(world):
    out = io.StringIO()
    call_command("create_user", "frank", "--role", "rater", "--project", "demo", "--token", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("wb_") and "\n" not in token
    assert ApiToken.objects.filter(key_hash=hash_token(token), user__username="frank").exists()
    assert world.project.members.filter(username="frank").exists()
    response = Client().get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert [p["slug"] for p in response.json()["projects"]] == ["demo"]


def test_it_fails_create_user_for_an_existing_name(world):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", "alice", "--role", "rater")


def test_it_throttles_repeated_failed_logins(world, settings):
    settings.WB_LOGIN_MAX_FAILURES = 3
    browser = Client()
    for _ in range(3):
        assert browser.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 401
    blocked = browser.post("/login/", {"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert LoginFailure.objects.filter(username="alice").count() == 3
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 3


def test_it_logs_in_and_redirects_home(world):
    browser = Client()
    response = browser.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    assert "Demo project" in browser.get("/").content.decode()


def test_it_refuses_a_login_post_without_csrf(world):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 403


def test_it_stops_accepting_a_revoked_token_once_the_cache_is_off(world, tokens, settings):
    settings.WB_TOKEN_CACHE_SECONDS = 0
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['alice']}"}
    assert client.get("/api/v1/projects", **auth).status_code == 200
    ApiToken.objects.filter(key_hash=hash_token(tokens["alice"])).update(revoked_at=world.project.created_at)
    assert client.get("/api/v1/projects", **auth).status_code == 401


def test_it_remembers_a_token_for_the_configured_time(world, tokens, settings, django_assert_num_queries):
    from webapp.accounts.services import user_for_token

    settings.WB_TOKEN_CACHE_SECONDS = 60
    assert user_for_token(tokens["bob"]).username == "bob"
    with django_assert_num_queries(0):
        again = user_for_token(tokens["bob"])
    assert again.username == "bob" and again.profile.role == "rater"


def test_it_gives_new_users_the_pseudonym_of_the_one_rule(world, settings):
    user = user_create(username="frank", role="rater")

    assert user.profile.pseudonym == pseudonym(settings.WB_PSEUDONYM_KEY, f"user:{user.pk}")
    bare = get_user_model().objects.create_user("no-profile")  # e.g. made by Django's createsuperuser
    assert user_pseudonym(bare) == pseudonym(settings.WB_PSEUDONYM_KEY, f"user:{bare.pk}")
