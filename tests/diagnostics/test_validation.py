"""Validation: synthetic raters with planted habits judge through the real services, and the
diagnostics recover the planted effects within their intervals, and report none where none was
planted. Runs on SQLite and PostgreSQL (./run test)."""
import io
import json
import math
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.conftest import make_world
from webapp.comparisons import services as comparison_services
from webapp.comparisons.imports import import_file
from webapp.comparisons.models import Comparison
from webapp.diagnostics import report as reports
from webapp.diagnostics.selectors import Selection
from webapp.projects.services import project_settings_change

WORDS = "the a model answer is clear short long because which then also very".split()


def pairs_jsonl(n: int, *, seed: int, probes: int = 0, suite: str = "answer") -> bytes:
    """Comparisons whose lengths vary independently of each other and of the gold answer."""
    rng = random.Random(seed)
    lines = []
    for i in range(n + probes):
        text_a = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
        text_b = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
        record = {"prompt": [{"role": "user", "content": f"Question {seed}-{i}?"}],
                  "response_a": {"text": f"A{i}: {text_a}"}, "response_b": {"text": f"B{i}: {text_b}"},
                  "id": f"sim-{seed}-{i}"}
        if i >= n:
            record["metadata"] = {"probe": {"suite": suite, "sycophantic": rng.choice("ab"), "item": f"p{i}"}}
        elif i % 2 == 0:
            record["gold"] = rng.choice("ab")
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def within(fig, expected):
    assert fig["ci_low"] is not None, fig
    return fig["ci_low"] <= expected <= fig["ci_high"]


def near(fig, expected, z=3.29):
    """The planted rate lies within z binomial standard errors of the estimate (p = 0.001 for 3.29):
    a 95 % interval misses one planted value in twenty, too often for a suite that checks several."""
    return abs(fig["value"] - expected) <= z * math.sqrt(expected * (1 - expected) / fig["n"])


def simulate(*args):
    call_command("simulate_raters", "--project", "demo", *map(str, args), stdout=io.StringIO())


@pytest.fixture
def project(db, monkeypatch):
    # Display orders come from the system's random source; a seeded one makes each run the same
    # draw (the checks below are 95 % intervals: a fresh draw every run would fail one now and then).
    monkeypatch.setattr(comparison_services, "_seed_source", random.Random(2026))
    return make_world(n_comparisons=0)


def test_planted_position_bias_and_accuracy_are_recovered_and_no_length_bias_is_reported(project):
    import_file(project=project.project, data=pairs_jsonl(240, seed=1), file_name="sim.jsonl", actor=project.carol)
    simulate("--raters", 3, "--accuracy", 0.8, "--left-rate", 0.6, "--seed", 11)
    report = reports.build(project.project, Selection(), n_resamples=1000)
    assert report["n_judgments"] == 720 and report["n_raters"] == 3
    p_left = report["position_bias"]["overall_p_left"]
    assert within(p_left, 0.8) and p_left["ci_low"] > 0.5 and p_left["p_value"] < 1e-6
    assert within(report["length_bias"]["overall_p_longer"], 0.5)       # none planted
    assert report["length_bias"]["overall_p_longer"]["p_value"] > 0.01
    correct = 0.6 * 0.5 + 0.4 * 0.8                                   # the reflex is right half the time
    assert within(report["rater_quality"]["gold_accuracy"], correct)
    assert within(report["agreement"]["raw_pairwise"], correct ** 2 + (1 - correct) ** 2)
    flagged = {r["rater"]: r["flags"] for r in report["raters"]}
    assert all("position_bias" in flags for flags in flagged.values()), flagged


def test_planted_length_bias_is_recovered_and_no_position_bias_is_reported(project):
    import_file(project=project.project, data=pairs_jsonl(240, seed=2), file_name="sim.jsonl", actor=project.carol)
    simulate("--raters", 3, "--accuracy", 0.9, "--longer-rate", 0.5, "--seed", 12)
    report = reports.build(project.project, Selection(), n_resamples=1000)
    longer = report["length_bias"]["overall_p_longer"]
    assert within(longer, 0.75) and longer["ci_low"] > 0.5
    assert within(report["position_bias"]["overall_p_left"], 0.5)
    assert report["position_bias"]["overall_p_left"]["p_value"] > 0.01
    assert all(not r["flags"] for r in report["raters"])


def test_planted_sycophancy_is_recovered_per_suite_and_rater(project):
    import_file(project=project.project, data=pairs_jsonl(30, seed=3, probes=150), file_name="sim.jsonl",
                actor=project.carol)
    simulate("--raters", 2, "--sycophancy", 0.7, "--seed", 13)
    report = reports.build(project.project, Selection(), n_resamples=1000)
    rate = report["sycophancy"]["answer"]["rate"]
    assert within(rate, 0.7) and rate["n"] == 300 and rate["ci_low"] > 0.5
    for rater in report["raters"]:
        assert within(rater["sycophancy"]["answer"], 0.7)


def test_no_sycophancy_planted_none_reported(project):
    import_file(project=project.project, data=pairs_jsonl(10, seed=4, probes=150), file_name="sim.jsonl",
                actor=project.carol)
    simulate("--raters", 2, "--sycophancy", 0.5, "--seed", 14)
    rate = reports.build(project.project, Selection(), n_resamples=1000)["sycophancy"]["answer"]["rate"]
    assert within(rate, 0.5)


def test_planted_consistency_is_recovered_per_rater_and_re_serves_enter_no_other_figure(project, monkeypatch):
    monkeypatch.setattr(comparison_services, "_repeat_draw", random.Random(2027))
    project_settings_change(project=project.project, actor=project.carol, consistency_fraction=0.2,
                            consistency_min_gap=10)
    import_file(project=project.project, data=pairs_jsonl(200, seed=5), file_name="sim.jsonl", actor=project.carol)
    simulate("--raters", 1, "--accuracy", 0.8, "--consistency", 0.9, "--seed", 15, "--prefix", "steady")
    simulate("--raters", 1, "--accuracy", 0.8, "--seed", 16, "--prefix", "fresh")        # decides afresh
    simulate("--raters", 1, "--left-rate", 1.0, "--seed", 17, "--prefix", "lefty")        # always "left"
    report = reports.build(project.project, Selection(), n_resamples=1000)
    assert report["n_judgments"] == 600                                  # the regular ones: k = 3 per pair
    assert set(Comparison.objects.values_list("judged", flat=True)) == {3}
    by_name = {r["rater"]: r for r in report["raters"]}
    name = {prefix: get_user_model().objects.get(username__startswith=prefix).profile.pseudonym
            for prefix in ("steady", "fresh", "lefty")}
    steady, fresh, lefty = (by_name[name[p]]["intra_rater"] for p in ("steady", "fresh", "lefty"))
    assert all(r["agreement"]["n"] >= 30 for r in (steady, fresh, lefty))
    assert near(steady["agreement"], 0.9)
    assert near(fresh["agreement"], 0.8 ** 2 + 0.2 ** 2)                 # two independent tries at 0.8
    assert lefty["agreement"]["value"] == 0.0                            # sides swapped: never the same answer
    assert "inconsistent" in by_name[name["lefty"]]["flags"]
    assert "inconsistent" not in by_name[name["steady"]]["flags"]
    intra = report["intra_rater"]
    assert intra["agreement"]["n"] == sum(r["agreement"]["n"] for r in (steady, fresh, lefty))
    assert intra["by_guideline_version"]["v1"]["agreement"] == intra["agreement"]
    assert intra["across_versions"]["n"] == 0
    assert intra["tie_changes"]["value"] == 0.0                          # nobody answered "tie"


def test_simulate_raters_refuses_bad_rates(project):
    with pytest.raises(CommandError, match="accuracy"):
        simulate("--accuracy", 1.5)
