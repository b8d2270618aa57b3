"""The lead's project page: progress bar and counts, and the import-status view it polls."""
import datetime as dt
import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD, acknowledge, make_world
from webapp.comparisons import services
from webapp.comparisons.imports import import_request
from webapp.core import clock

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def logged_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def judge(world, rater, at):
    with clock.frozen_at(at):
        assignment = services.assignment_next(project=world.project, rater=rater)
        services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice="left",
                                 idempotency_key=f"{rater.pk}-{assignment.pk}")


def test_the_lead_page_shows_complete_pairs_as_a_bar_and_judgments_today():
    world = make_world(overlap=2, n_comparisons=4)
    acknowledge(world, "alice", "bob")
    judge(world, world.alice, NOON - dt.timedelta(days=1))  # yesterday
    judge(world, world.bob, NOON)                            # completes the pair alice started
    judge(world, world.alice, NOON)                          # starts another one
    with clock.frozen_at(NOON + dt.timedelta(hours=1)):
        body = logged_in("carol").get("/lead/demo/").content.decode()
    assert '<progress id="progress-bar" max="4" value="1">25%</progress>' in body
    assert re.search(r'<span id="complete-count">1</span> of <span id="total-count">4</span>', body)
    assert '<strong id="today-count">2</strong> judgments today (UTC)' in body
    assert '<span id="started-count">2</span> started' in body
    assert '<label for="progress-bar">Comparisons with 2 judgments</label>' in body
    assert '<label for="import-file">' in body


def test_an_empty_project_has_a_valid_bar():
    make_world(n_comparisons=0)
    body = logged_in("carol").get("/lead/demo/").content.decode()
    assert '<progress id="progress-bar" max="1" value="0">0%</progress>' in body


def test_the_import_status_view_reports_batches_and_progress_to_leads_only():
    world = make_world(overlap=1, n_comparisons=2)
    batch = import_request(project=world.project, data=b'{"bad": 1}\n', file_name="later.jsonl", actor=world.carol)
    acknowledge(world, "alice")
    judge(world, world.alice, clock.now())
    status = logged_in("carol").get("/lead/demo/imports.json").json()
    assert status["batches"][0] == {"id": batch.pk, "file_name": "later.jsonl", "status": "pending", "created": 0,
                                    "already_present": 0, "rejected": 0, "error": "",
                                    "url": f"/provenance/imports/{batch.pk}/"}
    assert [b["status"] for b in status["batches"][1:]] == ["done"]
    progress = status["progress"]
    assert (progress["total"], progress["complete"], progress["percent"], progress["judgments_today"],
            progress["live_leases"]) == (2, 1, 50, 1, 0)
    assert logged_in("alice").get("/lead/demo/imports.json").status_code in (403, 404)
    assert logged_in("dave").get("/lead/demo/imports.json").status_code == 200
