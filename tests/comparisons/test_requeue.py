import pytest
from django.test import Client

from tests.conftest import (
    PASSWORD,
    acknowledge,
    extra_raters,
    judge_canonical,
    make_world,
)
from webapp.audit.models import AuditEvent
from webapp.comparisons import services
from webapp.comparisons.models import Comparison, Judgment
from webapp.comparisons.selectors import requeue_candidates
from webapp.core.errors import LeaseLost, ValidationFailed
from webapp.guidelines.services import guideline_acknowledge, guideline_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def judged_under_v1(db):
    """One comparison, judged by two raters under v1 (they disagree), then v2 is published."""
    world = make_world(overlap=2, n_comparisons=1)
    acknowledge(world, "alice", "bob")
    judge_canonical(world.project, world.alice, "a")
    judge_canonical(world.project, world.bob, "b")
    world.v2 = guideline_publish(project=world.project, body_md="# v2", change_note="stricter", author=world.carol)
    return world


def test_it_lists_comparisons_judged_under_an_older_version(judged_under_v1):
    world = judged_under_v1
    (candidate,) = requeue_candidates(project=world.project, current_version_number=2)
    assert (candidate.versions, sorted(candidate.choices), candidate.disagree) == ((1, 1), ["a", "b"], True)
    assert len(requeue_candidates(project=world.project, current_version_number=2, disagreeing_only=True)) == 1
    assert requeue_candidates(project=world.project, current_version_number=1) == []


def test_it_requeues_for_new_judgments_and_keeps_the_old_ones(judged_under_v1):
    world = judged_under_v1
    comparison = Comparison.objects.get()
    count = services.comparisons_requeue(project=world.project, comparison_ids=[comparison.pk], actor=world.carol)
    comparison.refresh_from_db()
    assert (count, comparison.round, comparison.taken, comparison.judged) == (1, 2, 0, 0)
    assert Judgment.objects.filter(guideline_version__number=1).count() == 2
    for name in ("alice", "bob"):
        guideline_acknowledge(user=getattr(world, name), project=world.project, number=2)
        again = judge_canonical(world.project, getattr(world, name), "a")
        assert (again.comparison_id, again.round, again.guideline_version.number) == (comparison.pk, 2, 2)
    assert Judgment.objects.filter(guideline_version__number=2).count() == 2
    assert requeue_candidates(project=world.project, current_version_number=2) == []
    event = AuditEvent.objects.get(action="comparisons.requeued")
    assert event.payload["comparison_ids"] == [comparison.pk] and event.actor == world.carol


def test_it_refuses_to_requeue_comparisons_not_judged_under_an_older_version(judged_under_v1):
    world = judged_under_v1
    with pytest.raises(ValidationFailed, match="not eligible"):
        services.comparisons_requeue(project=world.project, comparison_ids=[999999], actor=world.carol)


def test_it_ends_live_leases_of_the_old_round(db):
    world = make_world(overlap=3, n_comparisons=1)
    acknowledge(world, "alice")
    judge_canonical(world.project, world.alice, "a")
    (late,) = extra_raters(world, 1)
    lease = services.assignment_next(project=world.project, rater=late)
    guideline_publish(project=world.project, body_md="# v2", change_note="", author=world.carol)
    services.comparisons_requeue(project=world.project, comparison_ids=[lease.comparison_id], actor=world.carol)
    with pytest.raises(LeaseLost):
        services.judgment_submit(assignment_id=lease.pk, rater=late, choice="left", idempotency_key="late")


def test_it_requeues_from_the_lead_page_only_for_leads(judged_under_v1):
    world = judged_under_v1
    comparison = Comparison.objects.get()
    rater = Client()
    rater.login(username="alice", password=PASSWORD)
    assert rater.post("/lead/demo/requeue/", {"comparison": [comparison.pk]}).status_code == 403
    lead = Client()
    lead.login(username="carol", password=PASSWORD)
    page = lead.get("/lead/demo/requeue/").content.decode()
    assert f"#{comparison.pk}" in page and world.v2.sha256 in page
    lead.post("/lead/demo/requeue/", {"comparison": [comparison.pk]})
    comparison.refresh_from_db()
    assert comparison.round == 2


def test_it_marks_old_round_judgments_on_the_comparison_provenance_page(judged_under_v1):
    world = judged_under_v1
    comparison = Comparison.objects.get()
    services.comparisons_requeue(project=world.project, comparison_ids=[comparison.pk], actor=world.carol)
    lead = Client()
    lead.login(username="carol", password=PASSWORD)
    page = lead.get(f"/provenance/comparisons/{comparison.pk}/").content.decode()
    assert page.count("earlier round: re-queued since") == 2
