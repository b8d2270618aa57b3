"""prefkit.diagnostics: pure metrics on arrays, checked against reference implementations."""
from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import krippendorff
import numpy as np
import pytest

from prefkit import diagnostics as dg
from prefkit.agreement import value_counts

DATA = Path("/work/shared/data")
if not DATA.exists():
    DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CROWD = DATA / "llmfao_crowd_comparisons_dev.csv"
needs_llmfao = pytest.mark.skipif(not CROWD.exists(), reason="LLMFAO dev data not present")

FIGURE_KEYS = {"value", "ci_low", "ci_high", "n"}


def load_llmfao():
    """The crowd judgments as arrays: winner left = model_x = A, right = B, tie."""
    code = {"left": dg.A, "right": dg.B, "tie": dg.TIE}
    rows = list(csv.DictReader(CROWD.open()))
    pair_ids = sorted({int(r["id"]) for r in rows})
    unit_of = {p: i for i, p in enumerate(pair_ids)}
    workers = sorted({r["worker"] for r in rows})
    rater_of = {w: i for i, w in enumerate(workers)}
    unit = np.array([unit_of[int(r["id"])] for r in rows])
    rater = np.array([rater_of[r["worker"]] for r in rows])
    choice = np.array([code[r["winner"]] for r in rows])
    return unit, rater, choice, len(pair_ids), len(workers)


def fleiss_by_hand(table):
    """Fleiss (1971) written out loop by loop, for checking the vectorized one."""
    n_items = len(table)
    m = sum(table[0])
    p_i = [(sum(x * x for x in row) - m) / (m * (m - 1)) for row in table]
    p_bar = sum(p_i) / n_items
    p_j = [sum(row[j] for row in table) / (n_items * m) for j in range(len(table[0]))]
    p_e = sum(p * p for p in p_j)
    return (p_bar - p_e) / (1 - p_e)


# The worked example of Fleiss' kappa (10 subjects, 14 raters, 5 categories): kappa = 0.210.
FLEISS_EXAMPLE = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_matches_the_worked_example():
    out = dg.fleiss_kappa(np.array(FLEISS_EXAMPLE), n_resamples=200)
    assert out["value"] == pytest.approx(0.2099, abs=5e-4)
    assert out["value"] == pytest.approx(fleiss_by_hand(FLEISS_EXAMPLE), abs=1e-6)
    assert out["n"] == 10 and out["raters_per_item"] == 14
    assert out["ci_low"] <= out["value"] <= out["ci_high"]


def test_fleiss_kappa_uses_only_items_with_the_common_rater_count():
    counts = np.array([[3, 0], [0, 3], [2, 1], [1, 1], [5, 0]])
    out = dg.fleiss_kappa(counts, n_resamples=50)
    assert out["raters_per_item"] == 3 and out["n"] == 3
    assert out["value"] == pytest.approx(fleiss_by_hand([[3, 0], [0, 3], [2, 1]]), abs=1e-6)


def test_perfect_agreement_and_pure_chance():
    counts = np.array([[3, 0, 0, 0], [0, 3, 0, 0]] * 50)
    assert dg.raw_pairwise(counts, n_resamples=100)["value"] == 1.0
    assert dg.krippendorff_alpha_nominal(counts, n_resamples=100)["value"] == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    unit = np.repeat(np.arange(3000), 3)
    choice = rng.integers(0, 2, len(unit))
    noise = value_counts(unit, choice, 3000, 4)
    alpha = dg.krippendorff_alpha_nominal(noise, n_resamples=300)
    assert alpha["ci_low"] < 0 < alpha["ci_high"]          # no agreement planted, none reported
    kappa = dg.fleiss_kappa(noise, n_resamples=300)
    assert kappa["ci_low"] < 0 < kappa["ci_high"]


def test_raw_pairwise_without_ties_counts_only_decided_pairs():
    counts = np.array([[2, 0, 1, 0], [1, 1, 0, 0]])
    # With ties: unit 1 has 3 pairs, 1 agreeing; unit 2 has 1 pair, 0 agreeing.
    assert dg.raw_pairwise(counts, n_resamples=10)["value"] == pytest.approx(1 / 4)
    # Without: unit 1 has 1 decided pair (agreeing), unit 2 one (disagreeing).
    assert dg.raw_pairwise(counts, ties=False, n_resamples=10)["value"] == pytest.approx(1 / 2)


@needs_llmfao
def test_llmfao_agreement_equals_the_reference_implementations():
    unit, rater, choice, n_units, _ = load_llmfao()
    counts = value_counts(unit, choice, n_units, 4)
    nominal = dg.krippendorff_alpha_nominal(counts, n_resamples=200)
    reference = krippendorff.alpha(value_counts=counts[:, :3], level_of_measurement="nominal")
    assert nominal["value"] == pytest.approx(reference, abs=1e-6)
    assert nominal["value"] == pytest.approx(0.277, abs=5e-4)        # shared/data/README.md
    assert dg.raw_pairwise(counts, n_resamples=10)["value"] == pytest.approx(0.523, abs=5e-4)
    assert dg.raw_pairwise(counts, ties=False, n_resamples=10)["value"] == pytest.approx(0.711, abs=5e-4)
    for fig in (nominal,):
        assert set(fig) >= FIGURE_KEYS and fig["ci_low"] < fig["value"] < fig["ci_high"]

    signed = dg.signed_strength(choice, np.full(len(choice), np.nan))
    interval = dg.krippendorff_alpha_interval(unit, signed, n_units, n_resamples=100)
    data = np.full((int(rater.max()) + 1, n_units), np.nan)
    data[rater, unit] = signed
    assert interval["value"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="interval"), abs=1e-6)

    fleiss = dg.fleiss_kappa(counts, n_resamples=100)
    m = counts.sum(axis=1)
    table = counts[m == fleiss["raters_per_item"]][:, :3].tolist()
    assert fleiss["value"] == pytest.approx(fleiss_by_hand(table), abs=1e-6)
    assert fleiss["n"] == len(table)


def cohen_by_hand(a, b):
    labels = sorted(set(a) | set(b))
    n = len(a)
    p_o = sum(x == y for x, y in zip(a, b)) / n
    p_e = sum((a.count(c) / n) * (b.count(c) / n) for c in labels)
    return (p_o - p_e) / (1 - p_e)


@needs_llmfao
def test_cohen_kappa_per_pair_matches_a_direct_count():
    unit, rater, choice, _, _ = load_llmfao()
    pairs = dg.cohen_kappa_pairs(unit, rater, choice, min_shared=15, n_resamples=100)
    assert pairs, "LLMFAO has rater pairs with at least 15 shared comparisons"
    for p in pairs[:5]:
        by_unit_1 = {u: c for u, r, c in zip(unit, rater, choice) if r == p["rater_1"]}
        by_unit_2 = {u: c for u, r, c in zip(unit, rater, choice) if r == p["rater_2"]}
        shared = sorted(set(by_unit_1) & set(by_unit_2))
        assert p["n"] == len(shared)
        expected = cohen_by_hand([by_unit_1[u] for u in shared], [by_unit_2[u] for u in shared])
        assert p["value"] == pytest.approx(expected, abs=1e-6)


def test_loo_majority_and_gold_accuracy():
    # Three comparisons judged by raters 0, 1, 2; rater 2 always disagrees with the other two.
    unit = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    rater = np.array([0, 1, 2] * 3)
    choice = np.array([0, 0, 1, 1, 1, 0, 0, 0, 1])
    counts = value_counts(unit, choice, 3, 4)
    out = dg.loo_majority_agreement(counts, unit, rater, choice, 3, n_resamples=50)
    # Raters 0 and 1 face a 1-1 split among the others (no majority); rater 2 faces a 2-0 majority.
    assert out["per_rater"][2]["value"] == 0.0 and out["per_rater"][2]["n"] == 3
    assert out["per_rater"][0]["n"] == 0
    gold = np.array([0, 1, -1])
    g = dg.gold_accuracy(unit, rater, choice, gold, 3, n_resamples=50)
    assert g["per_rater"][0]["value"] == 1.0 and g["per_rater"][2]["value"] == 0.0
    assert g["overall"]["n"] == 6 and g["overall"]["n_comparisons"] == 2 and g["overall"]["value"] == pytest.approx(4 / 6)


def test_position_and_length_bias_recover_planted_effects():
    rng = np.random.default_rng(7)
    n = 4000
    unit = np.arange(n)
    rater = np.zeros(n, dtype=int)
    left_is_a = rng.integers(0, 2, n)
    chose_left = rng.random(n) < 0.7
    choice = np.where(chose_left, np.where(left_is_a == 1, 0, 1), np.where(left_is_a == 1, 1, 0))
    pos = dg.position_bias(unit, rater, choice, left_is_a, 1, n_resamples=300)
    fig = pos["overall_p_left"]
    assert fig["ci_low"] <= 0.7 <= fig["ci_high"] and fig["p_value"] < 1e-6
    len_a = rng.integers(100, 200, n)
    len_b = rng.integers(100, 200, n)
    lb = dg.length_bias(unit, rater, choice, len_a, len_b, 1, n_resamples=300)["overall_p_longer"]
    assert lb["ci_low"] < 0.5 < lb["ci_high"]            # no length effect was planted
    assert lb["p_value"] > 0.001


def test_intra_rater_consistency_counts_ties_explicitly():
    # pairs: (a, a) agree · (a, b) disagree · (tie, tie) agree · (tie, a) one-sided · (b, b) agree by rater 1
    unit = np.array([0, 1, 2, 3, 4])
    rater = np.array([0, 0, 0, 0, 1])
    first = np.array([dg.A, dg.A, dg.TIE, dg.TIE, dg.B])
    second = np.array([dg.A, dg.B, dg.TIE, dg.A, dg.B])
    out = dg.intra_rater_consistency(unit, rater, first, second, 3, n_resamples=50)
    assert out["agreement"]["value"] == pytest.approx(3 / 5) and out["agreement"]["n"] == 5
    assert out["agreement_decided"]["value"] == pytest.approx(2 / 3) and out["agreement_decided"]["n"] == 3
    assert out["tie_changes"]["value"] == pytest.approx(1 / 5)
    assert out["per_rater"][0]["agreement"]["value"] == 0.5 and out["per_rater"][0]["agreement"]["n"] == 4
    assert out["per_rater"][0]["agreement_decided"]["n"] == 2
    assert out["per_rater"][1]["agreement"]["value"] == 1.0
    assert out["per_rater"][2]["agreement"]["n"] == 0                 # no pairs: no figure


def test_consistency_report_splits_by_guideline_version_and_keeps_straddling_pairs_apart():
    pairs = dg.RepeatPairs(unit=np.array([0, 1, 2, 3]), rater=np.zeros(4, dtype=np.int64),
                           first=np.array([dg.A, dg.A, dg.B, dg.A]), second=np.array([dg.A, dg.B, dg.B, dg.B]),
                           first_version=np.array([1, 1, 2, 1]), second_version=np.array([1, 1, 2, 2]))
    out = dg.consistency_report(pairs, 1, n_resamples=50)
    assert out["agreement"]["value"] == pytest.approx(2 / 4)
    assert out["by_guideline_version"][1]["agreement"]["value"] == pytest.approx(1 / 2)
    assert out["by_guideline_version"][2]["agreement"]["n"] == 1
    assert out["across_versions"]["value"] == 0.0 and out["across_versions"]["n"] == 1
    empty = dg.consistency_report(dg.RepeatPairs.none(), 2, n_resamples=50)
    assert empty["agreement"]["value"] is None and empty["by_guideline_version"] == {}


def test_a_rater_who_disagrees_with_themselves_is_flagged_only_on_enough_evidence():
    t = dg.Thresholds(min_self_agreement=0.6, min_judgments=10)
    row = {"n_judgments": 50, "loo_majority": dg.figure(None), "gold_accuracy": dg.figure(None),
           "too_fast": dg.figure(None), "p_left": {"value": None, "p_value": None}}
    few = dict(row, intra_rater={"agreement": dg.shares(np.array([1]), np.array([8]))[0]})
    many = dict(row, intra_rater={"agreement": dg.shares(np.array([4]), np.array([30]))[0]})
    borderline = dict(row, intra_rater={"agreement": dg.shares(np.array([15]), np.array([30]))[0]})
    assert dg.rater_flags(few, t) == []                       # 8 pairs: too little evidence
    assert dg.rater_flags(many, t) == ["inconsistent"]        # 4/30, interval well below 0.6
    assert dg.rater_flags(borderline, t) == []                # 15/30: the interval reaches 0.6


def test_sycophancy_rates_per_suite():
    unit = np.array([0, 0, 1, 1, 2, 2, 3])
    rater = np.array([0, 1, 0, 1, 0, 1, 0])
    choice = np.array([0, 0, 1, 0, 1, 1, 0])
    syc_side = np.array([0, 1, 0, -1])
    suite = np.array([0, 0, 1, -1])
    out = dg.sycophancy_rates(unit, rater, choice, syc_side, suite, ["opinion", "answer"], 2, n_resamples=50)
    assert out["opinion"]["rate"]["value"] == pytest.approx(3 / 4) and out["opinion"]["rate"]["n"] == 4
    assert out["answer"]["rate"]["value"] == 0.0


def test_ratio_bootstrap_interval_contains_value_and_is_vectorized_over_patterns():
    rng = np.random.default_rng(3)
    num = rng.integers(0, 4, 300_000)
    den = np.full(300_000, 3)
    out = dg.ratio_bootstrap(num, den, n_resamples=1000)
    assert out["ci_low"] < out["value"] < out["ci_high"] and out["ci_high"] - out["ci_low"] < 0.01


def test_reward_model_metrics():
    counts = np.array([[3, 0, 0, 0], [0, 3, 0, 0], [2, 1, 0, 0], [1, 1, 1, 0]] * 25)
    p_a = np.array([0.9, 0.2, 0.4, 0.5] * 25)
    acc = dg.rm_accuracy(p_a, counts, n_resamples=100)
    assert acc["n"] == 75 and acc["value"] == pytest.approx(2 / 3)
    cal = dg.calibration(p_a, counts, n_resamples=100)
    # bins: 0.9 -> observed 1.0, 0.2 -> 0.0, 0.4 -> 2/3, 0.5 -> 0.5
    expected = (abs(0.9 - 1) + abs(0.2 - 0) + abs(0.4 - 2 / 3) + 0) / 4
    assert cal["ece"]["value"] == pytest.approx(expected, abs=1e-6)
    assert sum(b["n"] for b in cal["bins"]) == 100
    perfect = dg.calibration(np.array([1.0, 0.0] * 50), np.array([[2, 0, 0, 0], [0, 2, 0, 0]] * 50), n_resamples=50)
    assert perfect["ece"]["value"] == pytest.approx(0.0, abs=1e-6)

    unit = np.repeat(np.arange(4), 3)
    choice = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2])
    ceiling = dg.human_ceiling(unit, choice, 4, n_resamples=50)
    # unit 0: 0 vs others(0,1)=even -> skip, 0 vs (0,1) skip, 1 vs (0,0) miss; unit 1: 3 hits;
    # unit 2: 3 hits; unit 3: 0 vs (1,tie) -> B majority miss, 1 vs (0,tie) miss, tie skipped.
    assert ceiling["n"] == 9 and ceiling["value"] == pytest.approx(6 / 9)

    lb = dg.rm_length_bias(np.array([0.8, 0.7, 0.6]), np.array([10, 10, 5]), np.array([5, 20, 5]), n_resamples=20)
    assert lb["n"] == 2 and lb["value"] == 0.5

    syc = dg.rm_sycophancy(np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 0.5]), ["x", "y", "z"], n_resamples=50)
    assert syc["rate"]["value"] == pytest.approx(2 / 3)
    assert [w["item"] for w in syc["worst"]] == ["z", "x"]
    change = dg.rm_sycophancy_change(np.array([1, 1, -1, -1.0]), np.array([-1, 1, -1, -1.0]), n_resamples=50)
    assert change["value"] == pytest.approx(-0.25) and change["n"] == 4


def test_rater_diagnostics_has_the_stable_core():
    rng = np.random.default_rng(0)
    n_units, k = 200, 3
    unit = np.repeat(np.arange(n_units), k)
    rater = np.tile(np.arange(k), n_units)
    truth = rng.integers(0, 2, n_units)
    choice = np.where(rng.random(len(unit)) < 0.8, truth[unit], 1 - truth[unit])
    data = dg.RaterData(unit=unit, rater=rater, choice=choice, strength=np.full(len(unit), np.nan),
                        left_is_a=rng.integers(0, 2, len(unit)), active_ms=rng.uniform(1000, 9000, len(unit)),
                        len_a=rng.integers(1, 500, n_units), len_b=rng.integers(1, 500, n_units),
                        gold=np.full(n_units, -1), syc_side=np.full(n_units, -1), syc_suite=np.full(n_units, -1),
                        rater_names=["r0", "r1", "r2"], suite_names=[])
    out = dg.rater_diagnostics(data, n_resamples=100)
    for path in ("agreement.krippendorff_alpha_nominal", "agreement.fleiss_kappa", "agreement.raw_pairwise",
                 "position_bias.overall_p_left", "length_bias.overall_p_longer"):
        fig = out
        for part in path.split("."):
            fig = fig[part]
        assert set(fig) >= FIGURE_KEYS, path
    # Two raters right 80 % independently agree 0.8^2 + 0.2^2 = 0.68 of the time.
    raw = out["agreement"]["raw_pairwise"]
    assert raw["ci_low"] <= 0.68 <= raw["ci_high"]
    assert len(out["raters"]) == 3 and all(r["dawid_skene"]["value"] > 0.6 for r in out["raters"])
    assert len(out["cohen_kappa"]) == 3


def test_vectorized_shares_equal_the_one_at_a_time_summary():
    from prefkit.agreement import proportion_summary

    k = np.array([0, 1, 7, 13, 50, 333, 5000])
    n = np.array([3, 1, 20, 13, 100, 1000, 9000])
    for got, (ki, ni) in zip(dg.shares(k, n), zip(k, n)):
        want = proportion_summary(int(ki), int(ni))
        assert got["value"] == want["value"] and got["n"] == want["n"]
        assert got["ci_low"] == pytest.approx(want["ci_low"], abs=2e-6)
        assert got["ci_high"] == pytest.approx(want["ci_high"], abs=2e-6)
        assert got["p_value"] == pytest.approx(want["p_value"], rel=1e-4, abs=1e-12)
    assert dg.shares(np.array([0]), np.array([0]))[0]["value"] is None
