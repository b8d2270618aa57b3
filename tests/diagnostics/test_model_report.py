"""Reward-model diagnostics as pure functions (prefkit.model_report, prefkit.diagnostics' rm_*):
known answers on constructed arrays, and planted effects (a sycophancy rate, a calibration error,
a model that follows the user, raters and a model of known accuracy) recovered within their
intervals from synthetic scores, with no model trained."""
import math

import numpy as np
import pytest

from prefkit import diagnostics as dg
from prefkit import model_report as mr

FIGURE = {"value", "ci_low", "ci_high", "n"}


# ---------------------------------------------------------------- known answers

def test_accuracy_counts_an_indifferent_model_as_a_miss():
    counts = np.array([[3, 0, 0], [0, 2, 1], [2, 1, 0], [1, 1, 0], [0, 1, 0]])
    p_a = np.array([0.9, 0.1, 0.5, 0.8, 0.5])
    acc = dg.rm_accuracy(p_a, counts, n_resamples=50)
    # majorities A, B, A, even (left out), B: hits on the first two; p = 0.5 prefers neither side
    assert acc["n"] == 4 and acc["value"] == 0.5


def test_human_ceiling_from_counts_by_hand_and_equal_to_the_per_judgment_form():
    # comparison 1: three A votes, each against (2, 0): 3 hits; comparison 2: A votes against (1, 1)
    # are even (left out), the B vote against (2, 0) misses; comparison 3: A against (0, 1) and B
    # against (1, 0) both miss. 3 hits of 6 votes used.
    counts = np.array([[3, 0, 0, 0], [2, 1, 0, 0], [1, 1, 1, 0]])
    ceiling = dg.human_ceiling_counts(counts, n_resamples=50)
    assert (ceiling["value"], ceiling["n"]) == (0.5, 6)

    rng = np.random.default_rng(4)
    unit = rng.integers(0, 80, 400)
    choice = rng.choice(4, 400, p=[0.45, 0.35, 0.15, 0.05])
    from prefkit.agreement import value_counts
    assert dg.human_ceiling(unit, choice, 80, n_resamples=100) == \
        dg.human_ceiling_counts(value_counts(unit, choice, 80, 4), n_resamples=100)


def test_calibration_symmetric_for_labelled_pairs():
    # A pair file: A is always the labelled winner. A model saying 0.7 for seven pairs and 0.3 for
    # three is calibrated once each pair also counts the other way round.
    p = np.array([0.7] * 7 + [0.3] * 3)
    labels = np.tile([1, 0, 0, 0], (10, 1))
    assert dg.calibration(p, labels, symmetric=True, n_resamples=50)["ece"]["value"] == pytest.approx(0.0, abs=1e-9)
    # without it every outcome is 1: |0.7 - 1| * 0.7 + |0.3 - 1| * 0.3
    assert dg.calibration(p, labels, n_resamples=50)["ece"]["value"] == pytest.approx(0.42)


def test_length_bias_of_model_and_raters():
    p_a = np.array([0.8, 0.3, 0.5, 0.9, 0.6])
    len_a, len_b = np.array([10, 10, 30, 5, 7]), np.array([5, 20, 10, 5, 9])
    lb = dg.rm_length_bias(p_a, len_a, len_b, n_resamples=50)
    # longer = A, B, (indifferent: out), (equal: out), B: the model picked longer, longer, shorter
    assert lb["n"] == 3 and lb["value"] == pytest.approx(2 / 3) and 0 < lb["p_value"] <= 1
    counts = np.array([[2, 1, 0], [0, 3, 0], [1, 0, 1], [2, 0, 0], [0, 0, 2]])
    human = dg.human_length_bias(counts, len_a, len_b, n_resamples=50)
    # unequal: rows 0, 1, 2, 4; longer votes 2 + 3 + 1 + 0 of decided 3 + 3 + 1 + 0
    assert human["n"] == 7 and human["value"] == pytest.approx(6 / 7)


def test_follows_user_counts_groups_where_every_item_went_sycophantic():
    margin = np.array([1.0, 0.5, 1.0, -1.0, -0.2, -0.3, 2.0, 3.0])
    groups = ["g1", "g1", "g2", "g2", "g3", "g3", "lonely", None]
    out = dg.rm_follows_user(margin, groups, n_resamples=50)
    assert (out["value"], out["n"], out["n_items"]) == (pytest.approx(1 / 3), 3, 6)


def test_change_between_models_pairs_items_by_id():
    this = {"answer": {"q1": 1.0, "q2": -1.0, "q3": 0.5, "q4": 2.0}, "only-here": {"x": 1.0}}
    other = {"answer": {"q4": -2.0, "q3": 0.1, "q2": 1.0, "extra": 5.0}}
    change = mr.sycophancy_change(this, other, n_resamples=50)
    assert list(change) == ["answer"]
    # shared q2, q3, q4: this prefers sycophantic on q3, q4 (2/3); the other on q2, q3 (2/3)
    assert change["answer"]["change"]["value"] == 0 and change["answer"]["change"]["n"] == 3
    assert change["answer"]["other_rate"]["value"] == pytest.approx(2 / 3)
    assert dg.rm_sycophancy_change(np.array([1, 1, -1, -1.0]), np.array([-1, 1, -1, 1.0]), n_resamples=50)["value"] == 0


def held_out(n=40, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(3, [0.5, 0.4, 0.1], size=n)
    v1 = np.where(np.arange(n)[:, None] < n // 2, counts, 0)
    return mr.HeldOutScores(p_a=rng.random(n), counts=counts, len_a=rng.integers(10, 90, n),
                            len_b=rng.integers(10, 90, n), source=np.array(["hh", "", "llmfao", "hh"] * (n // 4), dtype=object),
                            version_counts={"v1": v1, "v2": counts - v1})


def test_the_report_has_every_figure_in_the_one_shape():
    probes = {"answer": mr.ProbeScores(ids=[f"a{i}" for i in range(6)], margin=np.array([1, -1, 2, 0, 3, -2.0])),
              "opinion": mr.ProbeScores(ids=["o1", "o2", "o3", "o4"], margin=np.array([1, 1, 1, -1.0]),
                                        groups=["q1", "q1", "q2", "q2"])}
    report = mr.model_report(held_out(), probes, n_resamples=100)
    m = report["model"]
    for key in ("accuracy", "human_ceiling", "ece", "length_bias", "human_p_longer"):
        assert FIGURE <= set(m[key]) and m[key]["value"] is not None, key
        assert m[key]["ci_low"] <= m[key]["value"] <= m[key]["ci_high"], key
    assert m["n_comparisons"] == 40 and len(m["calibration_bins"]) == 10
    assert sum(b["n"] for b in m["calibration_bins"]) == m["ece"]["n"]
    assert list(m["by_guideline_version"]) == ["v1", "v2"]
    assert set(m["by_prompt_source"]) == {"hh", "llmfao", "unknown"} and m["by_prompt_source"]["hh"]["n_comparisons"] == 20
    # the per-group accuracies count the same comparisons as the whole
    assert sum(b["accuracy"]["n"] for b in m["by_prompt_source"].values()) == m["accuracy"]["n"]
    answer = report["sycophancy"]["answer"]
    assert answer["rate"]["value"] == 0.5 and answer["rate"]["n"] == 6 and "follows_user" not in answer
    assert [w["item"] for w in answer["worst"]] == ["a4", "a2", "a0"]   # widest sycophantic margin first
    assert [i["id"] for i in answer["items"]] == [f"a{i}" for i in range(6)]
    assert report["sycophancy"]["opinion"]["follows_user"]["value"] == 0.5
    # a second model's margins: the change per shared suite
    other = {"answer": {f"a{i}": -1.0 for i in range(6)}}
    compared = mr.model_report(held_out(), probes, compare=other, n_resamples=100)
    assert compared["sycophancy"]["answer"]["change"]["value"] == 0.5
    assert "change" not in compared["sycophancy"]["opinion"]


def test_without_held_out_data_or_suites_the_figures_are_empty_not_invented():
    report = mr.model_report(None, {}, n_resamples=50)
    assert report["sycophancy"] == {}
    for key in ("accuracy", "human_ceiling", "ece", "length_bias"):
        assert {k: report["model"][key][k] for k in FIGURE} == {"value": None, "ci_low": None, "ci_high": None,
                                                                  "n": 0}, key
    labelled = mr.HeldOutScores(p_a=np.array([0.9, 0.2]), counts=np.array([[1, 0, 0], [1, 0, 0]]),
                                len_a=np.array([5, 5]), len_b=np.array([3, 3]), labels_only=True)
    m = mr.model_report(labelled, {}, n_resamples=50)["model"]
    assert m["accuracy"]["value"] == 0.5 and m["human_ceiling"]["value"] is None


def test_mismatched_arrays_are_refused():
    with pytest.raises(ValueError, match="len_a"):
        mr.HeldOutScores(p_a=np.zeros(3), counts=np.zeros((3, 3)), len_a=np.zeros(2), len_b=np.zeros(3))
    with pytest.raises(ValueError, match="ids"):
        mr.ProbeScores(ids=["a"], margin=np.zeros(2))
    with pytest.raises(ValueError, match="vote counts"):
        dg.rm_accuracy(np.zeros(3), np.zeros((3, 7)))


# ---------------------------------------------------------------- planted effects

def covers(fig: dict, truth: float) -> bool:
    return fig["ci_low"] <= truth <= fig["ci_high"]


def planted_margins(rng, n: int, rate: float) -> np.ndarray:
    """Margins r(syc) - r(other) where the model prefers the sycophantic reply with probability `rate`."""
    size = rng.gamma(2.0, 1.0, n)
    return np.where(rng.random(n) < rate, size, -size)


@pytest.mark.parametrize("rate", [0.5, 0.72])
def test_a_planted_sycophancy_rate_is_recovered_within_its_interval(rate):
    rng = np.random.default_rng(11)
    hits, runs = 0, 60
    for run in range(runs):
        margins = planted_margins(rng, 250, rate)
        fig = mr.probe_report(mr.ProbeScores(ids=[str(i) for i in range(250)], margin=margins),
                              n_resamples=400, seed=run)["rate"]
        hits += covers(fig, rate)
        assert abs(fig["value"] - rate) < 0.12
    # a 95 % interval: about 57 of 60 runs; 51 leaves room for chance, not for a broken interval
    assert hits >= 51, f"the interval covered the planted rate in {hits} of {runs} runs"


def test_no_sycophancy_reads_as_none_and_a_strong_one_is_told_apart():
    rng = np.random.default_rng(2)
    neutral = mr.probe_report(mr.ProbeScores([str(i) for i in range(300)], planted_margins(rng, 300, 0.5)),
                              n_resamples=500)["rate"]
    strong = mr.probe_report(mr.ProbeScores([str(i) for i in range(300)], planted_margins(rng, 300, 0.8)),
                             n_resamples=500)["rate"]
    assert covers(neutral, 0.5) and strong["ci_low"] > 0.5 and strong["ci_low"] > neutral["ci_high"]


def test_a_planted_follow_the_user_rate_is_recovered():
    """Opinion pairs (one conservative, one liberal user): with probability q the model agrees with
    both users; otherwise it keeps one stance (sycophantic on exactly one item)."""
    rng = np.random.default_rng(5)
    q, n_groups, hits, runs = 0.3, 200, 0, 40
    for run in range(runs):
        follows = rng.random(n_groups) < q
        first_wins = rng.random(n_groups) < 0.5
        syc_first = follows | first_wins
        syc_second = follows | ~first_wins
        margins = np.ravel(np.column_stack([np.where(syc_first, 1.0, -1.0), np.where(syc_second, 1.0, -1.0)]))
        groups = [f"g{g}" for g in range(n_groups) for _ in range(2)]
        out = mr.probe_report(mr.ProbeScores([str(i) for i in range(2 * n_groups)], margins, groups),
                              n_resamples=400, seed=run)
        hits += covers(out["follows_user"], q)
        # each item alone looks like (1 + q) / 2: the group figure is what tells q apart
        assert abs(out["rate"]["value"] - (1 + q) / 2) < 0.08
    assert hits >= 34, f"covered in {hits} of {runs} runs"


def synthetic_raters(rng, n: int, k: int, rater_accuracy: float):
    """n comparisons with a true side; k raters each pick it with probability rater_accuracy."""
    truth = rng.integers(0, 2, n)
    correct = rng.random((n, k)) < rater_accuracy
    votes_a = np.where(truth[:, None] == 0, correct, ~correct).sum(axis=1)
    return truth, np.column_stack([votes_a, k - votes_a, np.zeros(n, int)])


def test_accuracy_and_human_ceiling_recover_their_analytic_values():
    """Five raters right 80 % of the time, a model right 90 % of the time (on the truth):
    P(majority right) = sum_{j>=3} C(5,j) .8^j .2^(5-j) = 0.94208, so the model agrees with the
    majority 0.9 * 0.94208 + 0.1 * 0.05792 = 0.853664; a rater against the other four: right and
    the others' majority right, 0.8 * 0.8192 + 0.2 * 0.0272, over the votes whose others are not
    split 2-2 (1 - 0.1536): 0.780718."""
    expected_accuracy = 0.9 * 0.94208 + 0.1 * 0.05792
    expected_ceiling = (0.8 * 0.8192 + 0.2 * 0.0272) / (1 - 0.1536)
    rng = np.random.default_rng(8)
    acc_hits = ceiling_hits = 0
    runs = 30
    for run in range(runs):
        truth, counts = synthetic_raters(rng, 1500, 5, 0.8)
        model_right = rng.random(1500) < 0.9
        p_a = np.where((truth == 0) == model_right, 0.8, 0.2)
        block = mr.agreement_block(p_a, counts, ceiling=True, n_resamples=300, seed=run)
        acc_hits += covers(block["accuracy"], expected_accuracy)
        ceiling_hits += covers(block["human_ceiling"], expected_ceiling)
    assert acc_hits >= 25 and ceiling_hits >= 25, (acc_hits, ceiling_hits)


def test_a_planted_calibration_error_is_recovered_and_a_calibrated_model_reads_small():
    """Each comparison has a true P(A); 5 raters vote by it. A model that adds 0.1 to every true
    probability is miscalibrated by exactly 0.1 in every bin (ECE 0.1); one that says the truth
    has an ECE near 0 (a little above: the observed shares are noisy)."""
    rng = np.random.default_rng(21)
    hits, runs = 0, 25
    for run in range(runs):
        truth = rng.uniform(0.1, 0.8, 1500)
        votes_a = rng.binomial(5, truth)
        counts = np.column_stack([votes_a, 5 - votes_a, np.zeros_like(votes_a)])
        shifted = dg.calibration(truth + 0.1, counts, n_resamples=300, seed=run)["ece"]
        hits += covers(shifted, 0.1)
        calibrated = dg.calibration(truth, counts, n_resamples=300, seed=run)["ece"]
        assert calibrated["value"] < 0.04 and calibrated["ci_high"] < shifted["ci_low"]
    assert hits >= 21, f"covered in {hits} of {runs} runs"
    assert math.isclose(dg.calibration(np.array([0.35]), np.array([[1, 1, 0]]), n_resamples=10)["ece"]["value"], 0.15)
