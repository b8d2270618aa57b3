"""What a rater sees of their own work: progress counts, and the readable, paginated "my judgments"
page with a page per judgment showing the pair as they saw it."""
import datetime as dt

import pytest
from django.test import Client

from tests.conftest import PASSWORD, acknowledge, add_comparisons, make_world
from webapp.comparisons import services
from webapp.comparisons.models import Judgment
from webapp.comparisons import selectors
from webapp.comparisons.selectors import rater_progress
from webapp.core import clock
from webapp.raters import views

pytestmark = pytest.mark.django_db
UTC = dt.timezone.utc
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def logged_in(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def judge(world, rater, *, at: dt.datetime, choice: str = "left", strength=None, rationale: str = "") -> Judgment:
    with clock.frozen_at(at):
        assignment = services.assignment_next(project=world.project, rater=rater)
        judgment, _ = services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice=choice,
                                               strength=strength, rationale=rationale,
                                               idempotency_key=f"{rater.pk}-{assignment.pk}")
    return judgment


def test_progress_counts_today_in_total_and_what_is_left_for_this_rater():
    world = make_world(overlap=2, n_comparisons=4)
    acknowledge(world, "alice", "bob")
    judge(world, world.alice, at=NOON - dt.timedelta(days=1))       # yesterday: total only
    judge(world, world.alice, at=NOON.replace(hour=0, minute=5))    # today, just after midnight UTC
    judge(world, world.bob, at=NOON)   # bob fills a slot of a pair alice judged: no change for her
    judge(world, world.bob, at=NOON)   # ...and one of a pair she has not had: it stays open (1 of 2)
    assert rater_progress(project=world.project, rater=world.alice, now=NOON) == {
        "today": 1, "total": 2, "remaining": 2, "remaining_text": "2"}
    with clock.frozen_at(NOON):
        services.assignment_next(project=world.project, rater=world.alice)  # a live lease still counts
    assert rater_progress(project=world.project, rater=world.alice, now=NOON)["remaining"] == 2
    assert rater_progress(project=world.project, rater=world.alice, now=NOON + dt.timedelta(days=1)) == {
        "today": 0, "total": 2, "remaining": 1, "remaining_text": "1"}  # the next day; the lease has expired by then
    assert rater_progress(project=world.project, rater=world.bob, now=NOON) == {"today": 2, "total": 2, "remaining": 2,
                                                                                   "remaining_text": "2"}


def test_the_progress_view_answers_members_only():
    world = make_world(n_comparisons=3)
    acknowledge(world, "alice")
    judge(world, world.alice, at=clock.now())
    assert logged_in("alice").get("/p/demo/progress.json").json() == {
        "today": 1, "total": 1, "remaining": 2, "remaining_text": "2"}
    assert logged_in("eve").get("/p/demo/progress.json").status_code == 404
    assert Client().get("/p/demo/progress.json").status_code == 302  # to the log-in page


def test_the_task_page_renders_the_counts():
    world = make_world(n_comparisons=3)
    acknowledge(world, "alice")
    judge(world, world.alice, at=clock.now())
    body = logged_in("alice").get("/p/demo/").content.decode()
    assert '<h1>Demo project</h1>' in body
    for element_id, value in (("done-today", 1), ("done-count", 1), ("remaining", 2)):
        assert f'<strong id="{element_id}">{value}</strong>' in body


def test_my_judgments_are_in_words_with_strength_label_version_time_and_a_link():
    world = make_world(scale="four_level", allow_both_bad=True, n_comparisons=3)
    acknowledge(world, "alice")
    first = judge(world, world.alice, at=NOON, choice="right", strength=4, rationale="clearer")
    second = judge(world, world.alice, at=NOON + dt.timedelta(minutes=3), choice="both_bad")
    response = logged_in("alice").get("/p/demo/mine/")
    body = response.content.decode()
    rows = response.context["rows"]
    assert [(r["judgment"].pk, r["choice"], r["strength"]) for r in rows] == [
        (second.pk, "Both bad", ""), (first.pk, "Right response better", "4 · Significantly better")]
    assert '<td class="choice" data-label="Your choice">Right response better</td>' in body
    assert '<td class="strength" data-label="Strength">4 · Significantly better</td>' in body
    assert "2026-03-10 12:00" in body and ">v1</td>" in body
    assert f'href="/p/demo/mine/{first.pk}/"' in body
    assert "<th></th>" not in body


def test_my_judgments_are_paginated(monkeypatch):
    world = make_world(n_comparisons=5)
    acknowledge(world, "alice")
    made = [judge(world, world.alice, at=NOON + dt.timedelta(minutes=i)).pk for i in range(5)]
    monkeypatch.setattr(views, "JUDGMENTS_PER_PAGE", 2)
    alice = logged_in("alice")
    pages = [[row["judgment"].pk for row in alice.get("/p/demo/mine/", {"page": n}).context["rows"]] for n in (1, 2, 3)]
    assert pages == [made[4:2:-1], made[2:0:-1], made[:1]]
    body = alice.get("/p/demo/mine/", {"page": 2}).content.decode()
    assert "page 2 of 3" in body and 'href="?page=1"' in body and 'href="?page=3"' in body


def test_a_judgment_page_shows_the_pair_as_the_rater_saw_it_and_only_to_them():
    world = make_world(n_comparisons=2)
    acknowledge(world, "alice", "bob")
    judgment = judge(world, world.alice, at=NOON, choice="right", rationale="the right one is exact")
    comparison = judgment.comparison
    left, right = ((comparison.response_a, comparison.response_b) if judgment.display_order == "AB"
                   else (comparison.response_b, comparison.response_a))
    response = logged_in("alice").get(f"/p/demo/mine/{judgment.pk}/")
    assert response.context["left"] == left and response.context["right"] == right
    body = response.content.decode()
    assert body.index(left.html) < body.index(right.html)
    assert 'data-choice="right"' in body and "Right response better" in body and "the right one is exact" in body
    assert logged_in("bob").get(f"/p/demo/mine/{judgment.pk}/").status_code == 404   # not his
    assert logged_in("eve").get(f"/p/demo/mine/{judgment.pk}/").status_code == 404   # not her project
    assert logged_in("alice").get("/p/demo/mine/999999/").status_code == 404


def test_more_comparisons_raise_what_is_left():
    world = make_world(n_comparisons=1)
    acknowledge(world, "alice")
    assert rater_progress(project=world.project, rater=world.alice, now=clock.now())["remaining"] == 1
    add_comparisons(world.project, 3, actor=world.carol, start=10)
    assert rater_progress(project=world.project, rater=world.alice, now=clock.now())["remaining"] == 4


def test_a_huge_queue_is_counted_only_up_to_a_cap(monkeypatch):
    world = make_world(n_comparisons=5)
    acknowledge(world, "alice")
    monkeypatch.setattr(selectors, "REMAINING_CAP", 3)
    assert rater_progress(project=world.project, rater=world.alice, now=clock.now()) == {
        "today": 0, "total": 0, "remaining": 3, "remaining_text": "3+"}
    monkeypatch.setattr(selectors, "REMAINING_CAP", 5)
    assert rater_progress(project=world.project, rater=world.alice, now=clock.now())["remaining_text"] == "5"
