import datetime as dt

import pytest

from tests.conftest import acknowledge, extra_raters, make_world
from webapp.comparisons import services
from webapp.comparisons.models import Assignment, Comparison, Judgment
from webapp.core import clock
from webapp.core.errors import (
    Conflict,
    GuidelineNotAcknowledged,
    LeaseLost,
    NotFound,
    ValidationFailed,
)
from webapp.guidelines.services import guideline_publish

pytestmark = pytest.mark.django_db


def submit(world_or_none, assignment, rater, choice="left", key=None, **kw):
    return services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice=choice,
                                    idempotency_key=key or f"k-{assignment.pk}-{rater.pk}", **kw)


def test_it_refuses_a_task_before_the_guideline_is_acknowledged(world):
    with pytest.raises(GuidelineNotAcknowledged):
        services.assignment_next(project=world.project, rater=world.alice)


def test_it_serves_comparisons_closest_to_completion_first(world):
    acknowledge(world, "alice", "bob")
    first = services.assignment_next(project=world.project, rater=world.alice)
    submit(world, first, world.alice)
    served_to_bob = services.assignment_next(project=world.project, rater=world.bob)
    assert served_to_bob.comparison_id == first.comparison_id


def test_it_never_serves_a_rater_the_same_comparison_twice(world):
    acknowledge(world, "alice")
    seen = []
    while (a := services.assignment_next(project=world.project, rater=world.alice)) is not None:
        seen.append(a.comparison_id)
        submit(world, a, world.alice, choice="tie")
    assert len(seen) == 5 and len(set(seen)) == 5


def test_it_returns_the_live_lease_instead_of_a_second_one(world):
    acknowledge(world, "alice")
    first = services.assignment_next(project=world.project, rater=world.alice)
    again = services.assignment_next(project=world.project, rater=world.alice)
    assert again.pk == first.pk
    assert Assignment.objects.filter(rater=world.alice).count() == 1


def test_it_never_gives_a_comparison_more_than_k_raters(db):
    world = make_world(overlap=2, n_comparisons=1)
    raters = extra_raters(world, 3)
    got = [services.assignment_next(project=world.project, rater=r) for r in raters]
    assert [a is not None for a in got] == [True, True, False]
    assert Comparison.objects.get().taken == 2


def test_it_returns_expired_leases_to_the_pool(db):
    world = make_world(overlap=1, n_comparisons=1)
    acknowledge(world, "alice", "bob")
    t0 = clock.now()
    lease = services.assignment_next(project=world.project, rater=world.alice, now=t0)
    assert services.assignment_next(project=world.project, rater=world.bob, now=t0) is None
    later = t0 + dt.timedelta(minutes=world.project.lease_minutes, seconds=1)
    for_bob = services.assignment_next(project=world.project, rater=world.bob, now=later)
    assert for_bob.comparison_id == lease.comparison_id
    lease.refresh_from_db()
    assert lease.status == Assignment.Status.EXPIRED


def test_it_refuses_a_late_submit_after_the_lease_was_lost(db):
    world = make_world(overlap=1, n_comparisons=1)
    acknowledge(world, "alice")
    t0 = clock.now()
    lease = services.assignment_next(project=world.project, rater=world.alice, now=t0)
    with pytest.raises(LeaseLost, match="not saved"):
        submit(world, lease, world.alice, now=t0 + dt.timedelta(minutes=11))
    assert Judgment.objects.count() == 0


def test_it_expires_leases_with_the_injectable_clock(db):
    world = make_world(overlap=1, n_comparisons=1)
    acknowledge(world, "alice")
    t0 = clock.now()
    services.assignment_next(project=world.project, rater=world.alice, now=t0)
    with clock.frozen_at(t0 + dt.timedelta(minutes=10, seconds=1)):
        assert services.leases_expire() == 1
    assert Comparison.objects.get().taken == 0


def test_it_lets_a_rater_skip_with_a_reason_and_frees_the_slot(world):
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    with pytest.raises(ValidationFailed):
        services.assignment_skip(assignment_id=lease.pk, rater=world.alice, reason=" ")
    services.assignment_skip(assignment_id=lease.pk, rater=world.alice, reason="not my language")
    lease.refresh_from_db()
    assert (lease.status, lease.skip_reason) == (Assignment.Status.SKIPPED, "not my language")
    assert Comparison.objects.get(pk=lease.comparison_id).taken == 0
    assert services.assignment_next(project=world.project, rater=world.alice).comparison_id != lease.comparison_id


def test_it_stores_the_choice_in_canonical_and_displayed_orientation(world):
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    judgment, created = submit(world, lease, world.alice, choice="left")
    expected = "a" if lease.left_is_a else "b"
    assert created and judgment.choice == expected and judgment.choice_displayed == "left"
    assert judgment.display_order == ("AB" if lease.left_is_a else "BA")


def test_it_randomizes_display_order_from_a_recorded_seed(db):
    world = make_world(overlap=1, n_comparisons=40)
    acknowledge(world, "alice")
    orders = set()
    while (a := services.assignment_next(project=world.project, rater=world.alice)) is not None:
        assert Assignment.objects.get(pk=a.pk).left_is_a == a.left_is_a  # derivable from the stored seed
        orders.add(a.display_order)
        submit(world, a, world.alice, choice="tie")
    assert orders == {"AB", "BA"}


def test_it_pins_the_judgment_to_the_version_served(world):
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    guideline_publish(project=world.project, body_md="# v2", change_note="v2", author=world.carol)
    judgment, _ = submit(world, lease, world.alice)
    assert judgment.guideline_version == world.guideline
    with pytest.raises(GuidelineNotAcknowledged):
        services.assignment_next(project=world.project, rater=world.alice)


def test_it_returns_the_same_judgment_for_the_same_idempotency_key(world):
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    first, created_first = submit(world, lease, world.alice, key="same")
    again, created_again = submit(world, lease, world.alice, key="same", choice="right")
    assert (created_first, created_again) == (True, False) and again.pk == first.pk
    assert Judgment.objects.count() == 1 and Comparison.objects.get(pk=lease.comparison_id).judged == 1


def test_it_refuses_an_idempotency_key_reused_on_another_assignment(world):
    acknowledge(world, "alice")
    one = services.assignment_next(project=world.project, rater=world.alice)
    submit(world, one, world.alice, key="k")
    two = services.assignment_next(project=world.project, rater=world.alice)
    with pytest.raises(Conflict):
        submit(world, two, world.alice, key="k")


def test_it_stores_a_correction_as_a_new_judgment_that_supersedes_the_old(world):
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    old, _ = submit(world, lease, world.alice, key="first", choice="left")
    new, created = submit(world, lease, world.alice, key="second", choice="tie")
    assert created and new.supersedes == old
    old.refresh_from_db()
    assert old.choice_displayed == "left"  # untouched
    assert Judgment.objects.filter(superseded_by__isnull=True).get() == new
    assert Comparison.objects.get(pk=lease.comparison_id).judged == 1


def test_it_hides_other_raters_assignments(world):
    acknowledge(world, "alice", "bob")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    with pytest.raises(NotFound):
        submit(world, lease, world.bob)
    with pytest.raises(NotFound):
        services.assignment_skip(assignment_id=lease.pk, rater=world.bob, reason="x")


@pytest.mark.parametrize("scale,choice,strength,ok", [
    ("binary", "left", None, True),
    ("binary", "tie", None, False),
    ("binary", "left", 2, False),
    ("binary_tie", "tie", None, True),
    ("four_level", "right", 4, True),
    ("four_level", "right", None, False),
    ("four_level", "right", 5, False),
    ("four_level", "tie", None, False),
    ("seven_point", "tie", None, True),
    ("seven_point", "left", 3, True),
    ("seven_point", "tie", 1, False),
    ("binary_tie", "both_bad", None, False),
])
def test_it_validates_answers_against_the_project_scale(db, scale, choice, strength, ok):
    world = make_world(scale=scale, n_comparisons=1)
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    if ok:
        judgment, _ = submit(world, lease, world.alice, choice=choice, strength=strength)
        assert judgment.strength == strength
    else:
        with pytest.raises(ValidationFailed):
            submit(world, lease, world.alice, choice=choice, strength=strength)


def test_it_requires_a_rationale_where_the_project_says_so_and_offers_both_bad(db):
    world = make_world(n_comparisons=1, rationale_required=True, allow_both_bad=True)
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    with pytest.raises(ValidationFailed, match="rationale"):
        submit(world, lease, world.alice, choice="both_bad")
    judgment, _ = submit(world, lease, world.alice, choice="both_bad", rationale="both are wrong",
                         flags=["unsafe"], active_ms=1234)
    assert (judgment.choice, judgment.flags, judgment.active_ms) == ("both_bad", ["unsafe"], 1234)


def test_it_refuses_unknown_flags(world):
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    with pytest.raises(ValidationFailed, match="flags"):
        submit(world, lease, world.alice, flags=["bogus"])


def test_it_keeps_judgments_append_only(world):
    acknowledge(world, "alice")
    lease = services.assignment_next(project=world.project, rater=world.alice)
    judgment, _ = submit(world, lease, world.alice)
    judgment.choice = "b"
    with pytest.raises(TypeError):
        judgment.save()
    with pytest.raises(TypeError):
        Judgment.objects.filter(pk=judgment.pk).update(choice="b")
