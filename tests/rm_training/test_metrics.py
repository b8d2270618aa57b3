import math

import numpy as np

from rm_training import metrics


def test_it_counts_accuracy_with_ties_as_wrong():
    assert metrics.accuracy([2, 1, 0, 5], [1, 2, 0, 4]) == 0.5


def test_it_computes_p_chosen_as_a_sigmoid_of_the_margin_without_overflow():
    p = metrics.p_chosen([0.0, 1000.0, -1000.0], [0.0, 0.0, 0.0])
    assert np.allclose(p, [0.5, 1.0, 0.0])
    assert math.isclose(metrics.p_chosen([1.0], [0.0])[0], 1 / (1 + math.exp(-1)))


def test_it_gives_zero_calibration_error_when_confidence_matches_frequency():
    # 10 predictions at 0.8, of which 8 came true: perfectly calibrated.
    assert metrics.expected_calibration_error([0.8] * 10, [1] * 8 + [0] * 2) < 1e-12


def test_it_measures_overconfidence():
    assert math.isclose(metrics.expected_calibration_error([0.95] * 4, [1, 1, 0, 0]), 0.45)


def test_it_sees_an_accurate_but_unsure_reward_model_as_miscalibrated():
    # Always right, but only 52% sure: calibration error about 0.48.
    error = metrics.pair_calibration_error([0.08] * 20, [0.0] * 20)
    assert 0.45 < error < 0.5


def test_it_summarizes_and_handles_empty_input():
    summary = metrics.summarize([1.0, 0.0], [0.0, 1.0])
    assert summary["pairs"] == 2 and summary["accuracy"] == 0.5 and summary["mean_margin"] == 0.0
    assert math.isnan(metrics.accuracy([], []))
