"""Raters racing with real threads (own database connections, committed data).

Runs on both databases; on PostgreSQL this exercises FOR UPDATE SKIP LOCKED, on SQLite
the IMMEDIATE-transaction serialization.
"""
import re
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from tests.conftest import extra_raters, make_world
from webapp.comparisons import services
from webapp.comparisons.models import Assignment, Comparison, Judgment

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors = []

    def wrapped(*args):
        try:
            barrier.wait()
            target(*args)
        except Exception as error:  # surfaced below: a thread must not fail silently
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def test_it_never_overfills_the_last_slots_when_many_raters_race():
    world = make_world(overlap=3, n_comparisons=1)
    raters = extra_raters(world, 12)
    leased = []

    def claim(rater):
        assignment = services.assignment_next(project=world.project, rater=rater)
        if assignment is not None:
            leased.append(assignment.pk)

    run_threads(claim, [(r,) for r in raters])
    assert len(leased) == 3
    assert Comparison.objects.get().taken == 3
    assert Assignment.objects.count() == 3


def test_it_loses_and_duplicates_nothing_when_raters_judge_concurrently():
    world = make_world(overlap=3, n_comparisons=12)
    raters = extra_raters(world, 8)
    acknowledged = Counter()

    def judge_until_empty(rater):
        while (assignment := services.assignment_next(project=world.project, rater=rater)) is not None:
            _, created = services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice="tie",
                                                  idempotency_key=f"{rater.pk}-{assignment.pk}")
            acknowledged[rater.pk] += int(created)

    run_threads(judge_until_empty, [(r,) for r in raters])
    assert Judgment.objects.count() == sum(acknowledged.values()) == 12 * 3
    per_comparison = Counter(Judgment.objects.values_list("comparison_id", flat=True))
    assert set(per_comparison.values()) == {3}
    pairs = list(Judgment.objects.values_list("rater_id", "comparison_id"))
    assert len(pairs) == len(set(pairs))
    assert all(c.taken == c.judged == 3 for c in Comparison.objects.all())


class _AlwaysDraw:
    def random(self) -> float:  # every next-task call tries a re-serve first: as many races as can be
        return 0.0


def test_it_keeps_every_invariant_when_raters_race_with_consistency_re_serves_on(monkeypatch):
    monkeypatch.setattr(services, "_repeat_draw", _AlwaysDraw())
    world = make_world(overlap=3, n_comparisons=12, consistency_fraction=0.2, consistency_min_gap=1)
    raters = extra_raters(world, 6)
    acknowledged = Counter()

    def judge_until_empty(rater):
        while (assignment := services.assignment_next(project=world.project, rater=rater)) is not None:
            _, created = services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice="left",
                                                  idempotency_key=f"{rater.pk}-{assignment.pk}")
            acknowledged[rater.pk] += int(created)

    run_threads(judge_until_empty, [(r,) for r in raters])
    regular = Judgment.objects.filter(repeat=False)
    repeats = Judgment.objects.filter(repeat=True).select_related("assignment__repeat_of")
    assert repeats.count() > 0
    assert Judgment.objects.count() == sum(acknowledged.values()) == 12 * 3 + repeats.count()
    assert set(Counter(regular.values_list("comparison_id", flat=True)).values()) == {3}
    pairs = list(regular.values_list("rater_id", "comparison_id"))
    assert len(pairs) == len(set(pairs))
    assert all(c.taken == c.judged == 3 for c in Comparison.objects.all())
    originals = [j.assignment.repeat_of for j in repeats]
    assert len({o.pk for o in originals}) == len(originals)                 # each pair re-served at most once
    for judgment, original in zip(repeats, originals):
        assert (original.rater_id, original.comparison_id) == (judgment.rater_id, judgment.comparison_id)
        assert judgment.assignment.left_is_a != original.left_is_a


def test_it_stores_one_judgment_for_concurrent_retries_with_one_key():
    world = make_world(overlap=1, n_comparisons=1)
    (rater,) = extra_raters(world, 1)
    assignment = services.assignment_next(project=world.project, rater=rater)
    results = []

    def retry():
        judgment, created = services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice="left",
                                                     idempotency_key="double-click")
        results.append((judgment.pk, created))

    run_threads(retry, [() for _ in range(6)])
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Judgment.objects.count() == 1


@pytest.mark.postgres
def test_it_claims_with_skip_locked_on_postgresql():
    world = make_world(overlap=1, n_comparisons=2)
    raters = extra_raters(world, 2)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        services.assignment_next(project=world.project, rater=raters[0])
    picks = [q["sql"] for q in ctx.captured_queries if "FROM comparisons_comparison" in q["sql"]]
    assert len(picks) == 1 and re.search(r"FOR UPDATE OF c SKIP LOCKED\)", picks[0]), picks
