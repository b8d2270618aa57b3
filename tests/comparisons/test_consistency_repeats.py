"""Consistency re-serves: with the project setting on, a share of next-task calls gives a rater one of
their own judged pairs again, sides swapped, after a minimum gap, once per pair; the re-serve takes
no overlap slot, its judgment is marked and kept out of exports and of every agreement figure."""
import datetime as dt
import math
import random

import pytest

from tests.conftest import acknowledge, make_world
from webapp.audit.models import AuditEvent
from webapp.comparisons import services
from webapp.comparisons.models import Assignment, Comparison, Judgment
from webapp.core.errors import ValidationFailed
from webapp.exports.selectors import parse_filters, selected_judgments
from webapp.projects.services import project_settings_change

pytestmark = pytest.mark.django_db


class _AlwaysDraw:
    """The re-serve draw, made certain: every next-task call tries to re-serve."""

    def random(self) -> float:
        return 0.0


def judge(project, rater, n: int | None = None, *, choice: str = "left") -> list[Assignment]:
    """Serve and judge until nothing is left (or n tasks); return the assignments in the order served."""
    served = []
    while n is None or len(served) < n:
        assignment = services.assignment_next(project=project, rater=rater)
        if assignment is None:
            break
        services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice=choice,
                                 idempotency_key=f"{rater.pk}-{assignment.pk}")
        served.append(assignment)
    return served


def test_it_never_re_serves_with_the_setting_at_its_default_of_zero():
    world = make_world(overlap=1, n_comparisons=30)
    acknowledge(world, "alice")
    assert world.project.consistency_fraction == 0.0
    served = judge(world.project, world.alice)
    assert len(served) == 30 and not Assignment.objects.filter(repeat_of__isnull=False).exists()
    assert not Judgment.objects.filter(repeat=True).exists()


def test_it_re_serves_at_the_set_rate_after_the_gap_with_the_sides_swapped_once_per_pair(monkeypatch):
    monkeypatch.setattr(services, "_repeat_draw", random.Random(7))
    world = make_world(overlap=3, n_comparisons=400, consistency_fraction=0.2, consistency_min_gap=5)
    acknowledge(world, "alice")
    served = judge(world.project, world.alice)
    repeats = [a for a in served if a.repeat_of_id is not None]
    by_id = {a.pk: a for a in served}
    # After the first 6 judgments every call has an eligible pair, so each one re-serves with p = 0.2.
    later = served[6:]
    share = sum(a.repeat_of_id is not None for a in later) / len(later)
    assert abs(share - 0.2) < 4 * math.sqrt(0.2 * 0.8 / len(later)), (share, len(later))
    assert len({a.repeat_of_id for a in repeats}) == len(repeats)          # never the same pair twice
    order = [a.pk for a in served]
    for repeat in repeats:
        original = by_id[repeat.repeat_of_id]
        assert original.repeat_of_id is None and original.comparison_id == repeat.comparison_id
        assert repeat.left_is_a != original.left_is_a                        # sides swapped
        judged_since = order.index(repeat.pk) - order.index(original.pk) - 1
        assert judged_since >= 5
    # Re-serves take no overlap slot: each pair holds exactly alice's one regular judgment.
    assert set(Comparison.objects.values_list("taken", "judged")) == {(1, 1)}
    assert Judgment.objects.filter(repeat=True).count() == len(repeats)
    assert all(j.repeat == (j.assignment.repeat_of_id is not None)
               for j in Judgment.objects.select_related("assignment"))


def test_a_re_serve_takes_no_slot_when_leased_skipped_or_expired(monkeypatch):
    monkeypatch.setattr(services, "_repeat_draw", _AlwaysDraw())
    world = make_world(overlap=2, n_comparisons=6, consistency_fraction=0.1, consistency_min_gap=2)
    acknowledge(world, "alice")
    first = judge(world.project, world.alice, 3)                             # a gap of 2 after the first pair
    assert all(a.repeat_of_id is None for a in first)
    counts = dict(Comparison.objects.values_list("id", "taken"))
    repeat = services.assignment_next(project=world.project, rater=world.alice)
    assert repeat.repeat_of_id == first[0].pk and repeat.comparison.pk == first[0].comparison_id
    assert repeat.left_is_a != first[0].left_is_a
    assert dict(Comparison.objects.values_list("id", "taken")) == counts
    services.assignment_skip(assignment_id=repeat.pk, rater=world.alice, reason="seen it")
    assert dict(Comparison.objects.values_list("id", "taken")) == counts
    # The skipped original is never re-served; the next eligible one expires unjudged.
    again = services.assignment_next(project=world.project, rater=world.alice)
    assert again.repeat_of_id is None and again.comparison.pk not in {a.comparison_id for a in first}
    services.judgment_submit(assignment_id=again.pk, rater=world.alice, choice="right", idempotency_key="k-again")
    late = services.assignment_next(project=world.project, rater=world.alice)
    assert late.repeat_of_id == first[1].pk
    services.leases_expire(now=late.expires_at + dt.timedelta(seconds=1))
    assert Assignment.objects.get(pk=late.pk).status == Assignment.Status.EXPIRED
    assert dict(Comparison.objects.values_list("id", "taken")) == {**counts, again.comparison.pk: 1}


def test_a_re_served_judgment_is_marked_and_left_out_of_counts_and_exports_by_default(monkeypatch):
    monkeypatch.setattr(services, "_repeat_draw", _AlwaysDraw())
    world = make_world(overlap=1, n_comparisons=3, consistency_fraction=0.2, consistency_min_gap=1)
    acknowledge(world, "alice")
    regular = judge(world.project, world.alice, 2)
    repeat = services.assignment_next(project=world.project, rater=world.alice)
    assert repeat.repeat_of_id == regular[0].pk
    judgment, created = services.judgment_submit(assignment_id=repeat.pk, rater=world.alice, choice="right",
                                                 idempotency_key="repeat-1")
    assert created and judgment.repeat
    assert Comparison.objects.get(pk=repeat.comparison.pk).judged == 1       # alice's first judgment only
    event = AuditEvent.objects.filter(action="judgment.submitted").latest("seq")
    assert event.payload["repeat_of_assignment"] == regular[0].pk
    default = selected_judgments(world.project, parse_filters({}, project=world.project))
    assert judgment.pk not in set(default.values_list("pk", flat=True)) and default.count() == 2
    everything = selected_judgments(world.project, parse_filters({"repeats": "any"}, project=world.project))
    assert everything.count() == 3
    only = selected_judgments(world.project, parse_filters({"repeats": "with"}, project=world.project))
    assert list(only.values_list("pk", flat=True)) == [judgment.pk]
    # A correction of the re-served judgment is a re-serve's judgment too, and still counts nothing.
    correction, _ = services.judgment_submit(assignment_id=repeat.pk, rater=world.alice, choice="left",
                                             idempotency_key="repeat-2")
    assert correction.repeat and correction.supersedes_id == judgment.pk
    assert Comparison.objects.get(pk=repeat.comparison.pk).judged == 1


def test_a_bad_export_repeats_value_is_refused_naming_the_field():
    world = make_world(n_comparisons=1)
    with pytest.raises(ValidationFailed) as refused:
        parse_filters({"repeats": "sometimes"}, project=world.project)
    assert refused.value.field == "repeats"


@pytest.mark.parametrize("changes, field, words", [
    ({"consistency_fraction": 0.5}, "consistency_fraction", "at most 0.2"),
    ({"consistency_fraction": -0.1}, "consistency_fraction", "cannot be negative"),
    ({"consistency_fraction": float("nan")}, "consistency_fraction", "finite"),
    ({"consistency_min_gap": 0}, "consistency_min_gap", "at least 1"),
])
def test_out_of_range_settings_are_refused_with_a_clear_error_and_nothing_changes(changes, field, words):
    world = make_world(n_comparisons=1)
    with pytest.raises(ValidationFailed, match=words) as refused:
        project_settings_change(project=world.project, actor=world.carol, **changes)
    assert refused.value.field == field
    world.project.refresh_from_db()
    assert (world.project.consistency_fraction, world.project.consistency_min_gap) == (0.0, 20)


def test_the_settings_change_through_the_audited_service():
    world = make_world(n_comparisons=1)
    diff = project_settings_change(project=world.project, actor=world.carol, consistency_fraction=0.1,
                                   consistency_min_gap=50)
    assert diff == {"consistency_fraction": {"from": 0.0, "to": 0.1}, "consistency_min_gap": {"from": 20, "to": 50}}
    assert AuditEvent.objects.get(action="project.settings_changed").payload == diff
