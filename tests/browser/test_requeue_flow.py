"""A lead re-queues disagreeing pairs under a new guideline; a rater judges them again (real Chromium)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_rater_flow import log_in, next_task_after
from tests.conftest import acknowledge, judge_canonical, make_world
from webapp.comparisons.models import Comparison, Judgment
from webapp.guidelines.services import guideline_publish

pytestmark = pytest.mark.browser


def test_it_requeues_disagreeing_pairs_and_gets_new_judgments_under_the_new_version(live_server, open_browser):
    world = make_world(overlap=2, n_comparisons=2)
    acknowledge(world, "alice", "bob")
    judge_canonical(world.project, world.alice, "a")
    judge_canonical(world.project, world.bob, "b")  # bob is served the same pair (closest to completion): they disagree
    disputed = Judgment.objects.get(rater=world.alice).comparison
    assert Judgment.objects.get(rater=world.bob).comparison == disputed
    v2 = guideline_publish(project=world.project, body_md="# Rules v2\n\nPrefer the factually correct answer.",
                           change_note="correctness first", author=world.carol)

    lead = open_browser("carol")
    log_in(lead, live_server.url, "carol", path="/lead/demo/requeue/")
    expect(lead).to_have_url(re.compile(r"/lead/demo/requeue/$"))
    lead.click("#only-disagreeing")
    expect(lead.locator('input[name="comparison"]')).to_have_count(1)
    expect(lead.locator("body")).to_contain_text(v2.sha256)
    with lead.expect_navigation():
        lead.click("#requeue-submit")
    expect(lead.locator(".messages")).to_contain_text("Re-queued 1 comparison under guideline v2")
    disputed.refresh_from_db()
    assert (disputed.round, disputed.taken, disputed.judged) == (2, 0, 0)

    rater = open_browser("alice")
    log_in(rater, live_server.url, "alice", path="/p/demo/")
    expect(rater).to_have_url(re.compile(r"/p/demo/guideline/$"))
    expect(rater.locator("#guideline-body")).to_contain_text("Prefer the factually correct answer")
    task = next_task_after(rater, "Enter")  # acknowledge v2, then the task page serves the next pair
    assert task["guideline"]["version"] == 2
    assert task["left"]["text"] in (disputed.response_a.text, disputed.response_b.text)
    rater.keyboard.press("ArrowLeft")
    with rater.expect_response(lambda r: r.url.endswith("/judgment")) as saved:
        rater.keyboard.press("Enter")
    assert saved.value.status == 201

    old, new = Judgment.objects.filter(rater=world.alice, comparison=disputed).order_by("id")
    assert (old.guideline_version.number, old.assignment.round) == (1, 1)
    assert (new.guideline_version.number, new.assignment.round) == (2, 2)
    assert Comparison.objects.get(pk=disputed.pk).judged == 1
