"""prefkit.agreement against the krippendorff package and hand-checked values."""
import math

import krippendorff
import numpy as np
import pytest

from prefkit import agreement as ag


def random_counts(seed, n_units=300, n_values=4, max_k=5):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_values, n_units)
    rows = []
    for t in truth:
        k = rng.integers(1, max_k + 1)
        labels = np.where(rng.random(k) < 0.7, t, rng.integers(0, n_values, k))
        rows.append(np.bincount(labels, minlength=n_values))
    return np.array(rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_alpha_equals_the_krippendorff_package(seed, level):
    counts = random_counts(seed)
    ours = ag.krippendorff_alpha(counts, level)
    theirs = krippendorff.alpha(value_counts=counts, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_alpha_on_reliability_data_with_missing_values():
    # Krippendorff (2011) "Computing Krippendorff's alpha-reliability", nominal example: alpha = 0.743
    data = np.array([
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ])
    units, values = np.nonzero(~np.isnan(data.T))
    labels = data.T[units, values].astype(int) - 1
    counts = ag.value_counts(units, labels, n_units=12, n_values=5)
    assert ag.krippendorff_alpha(counts) == pytest.approx(0.743, abs=5e-4)
    assert ag.krippendorff_alpha(counts) == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-12)


def test_pairwise_agreement_by_hand():
    # unit 1: a a b -> 1 of 3 pairs agree; unit 2: a a -> 1 of 1; unit 3 (one judgment) is ignored
    counts = np.array([[2, 1], [2, 0], [0, 1]])
    assert ag.pairwise_agreement(counts) == pytest.approx(2 / 4)
    patterns, weights = ag.compress_units(counts)
    assert patterns.tolist() == [[2, 0], [2, 1]] and weights.tolist() == [1, 1]


def test_bootstrap_matches_resampling_units():
    counts = random_counts(5, n_units=200)
    summary = ag.agreement_summary(counts, n_resamples=2000, seed=1)
    alpha = summary["krippendorff_alpha"]
    assert alpha["ci_low"] < alpha["value"] < alpha["ci_high"]
    # the pattern bootstrap has the distribution of the plain one: compare with resampling rows directly
    rng = np.random.default_rng(2)
    pairable = counts[counts.sum(axis=1) >= 2]
    plain = [ag.krippendorff_alpha(pairable[rng.integers(0, len(pairable), len(pairable))]) for _ in range(800)]
    low, high = np.quantile(plain, [0.025, 0.975])
    assert alpha["ci_low"] == pytest.approx(low, abs=0.02) and alpha["ci_high"] == pytest.approx(high, abs=0.02)
    assert ag.agreement_summary(counts, n_resamples=2000, seed=1) == summary  # seeded: reproducible


def test_no_disagreement_possible_gives_none():
    summary = ag.agreement_summary(np.array([[3, 0], [2, 0]]), n_resamples=50)
    assert summary["krippendorff_alpha"]["value"] is None  # one value only: alpha undefined
    assert summary["raw_pairwise"]["value"] == 1.0
    assert ag.agreement_summary(np.zeros((0, 4)), n_resamples=10)["raw_pairwise"]["n"] == 0


def test_proportions_by_hand():
    # 60 of 100: Wilson 95 % interval [0.5020, 0.6906]; exact two-sided binomial p = 0.0569
    s = ag.proportion_summary(60, 100)
    assert (s["value"], s["n"]) == (0.6, 100)
    assert s["ci_low"] == pytest.approx(0.5020, abs=1e-4) and s["ci_high"] == pytest.approx(0.6906, abs=1e-4)
    assert s["p_value"] == pytest.approx(0.056888, abs=1e-6)
    assert ag.proportion_summary(5, 10)["p_value"] == 1.0
    assert ag.proportion_summary(0, 0)["value"] is None
    big = ag.proportion_summary(50_500, 100_000)  # normal approximation branch
    assert big["p_value"] == pytest.approx(math.erfc(500 / math.sqrt(25_000) / math.sqrt(2)), rel=1e-5)


def test_position_and_length_bias():
    assert ag.position_bias(np.array([True, True, True, False]))["value"] == 0.75
    chose_a = np.array([True, False, True, True])
    len_a = np.array([10, 10, 5, 7])
    len_b = np.array([5, 20, 9, 7])   # longer chosen, longer chosen, shorter chosen, equal (left out)
    s = ag.length_bias(chose_a, len_a, len_b)
    assert (s["value"], s["n"]) == (pytest.approx(2 / 3, abs=1e-6), 3)


def test_weighted_patterns_equal_the_units_they_stand_for():
    counts = random_counts(7, n_units=120)
    patterns, weights = ag.compress_units(counts)
    units = np.repeat(patterns, weights, axis=0)
    assert ag.agreement_summary(patterns, weights=weights, n_resamples=200) == ag.agreement_summary(
        units, n_resamples=200)
    assert ag.krippendorff_alpha(units) == pytest.approx(ag.krippendorff_alpha(counts), abs=1e-12)
