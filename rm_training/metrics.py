"""Pure metrics over arrays of rewards: defined once, used by training, scoring and the tests."""
from __future__ import annotations

import numpy as np


def p_chosen(reward_chosen, reward_rejected) -> np.ndarray:
    """Return the Bradley-Terry probability that chosen beats rejected: sigmoid(r_c - r_r)."""
    margin = np.asarray(reward_chosen, dtype=np.float64) - np.asarray(reward_rejected, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * margin))  # sigmoid without overflow for large margins


def accuracy(reward_chosen, reward_rejected) -> float:
    """Return the share of pairs where chosen scores strictly higher (ties count as wrong, as in TRL)."""
    chosen, rejected = np.asarray(reward_chosen), np.asarray(reward_rejected)
    if chosen.size == 0:
        return float("nan")
    return float(np.mean(chosen > rejected))


def mean_margin(reward_chosen, reward_rejected) -> float:
    """Return the mean of r_chosen - r_rejected."""
    margin = np.asarray(reward_chosen, dtype=np.float64) - np.asarray(reward_rejected, dtype=np.float64)
    return float(margin.mean()) if margin.size else float("nan")


def expected_calibration_error(probabilities, outcomes, n_bins: int = 10) -> float:
    """Return the expected calibration error of predicted probabilities against 0/1 outcomes.

    Bins are equal-width on [0, 1]; ECE = sum over bins of (share of items) * |mean outcome - mean p|.
    For preference pairs pass p_chosen and outcomes of all ones: the label is always "chosen won".
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    outcomes = np.asarray(outcomes, dtype=np.float64)
    if probabilities.size == 0:
        return float("nan")
    bins = np.minimum((probabilities * n_bins).astype(int), n_bins - 1)
    error = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        error += in_bin.mean() * abs(outcomes[in_bin].mean() - probabilities[in_bin].mean())
    return float(error)


def pair_calibration_error(reward_chosen, reward_rejected, n_bins: int = 10) -> float:
    """Return the ECE of P(chosen > rejected), each pair counted in both orders so the outcomes are not
    all ones (p for "chosen wins" = 1, and 1 - p for "rejected wins" = 0)."""
    p = p_chosen(reward_chosen, reward_rejected)
    both = np.concatenate([p, 1.0 - p])
    outcomes = np.concatenate([np.ones_like(p), np.zeros_like(p)])
    return expected_calibration_error(both, outcomes, n_bins)


def summarize(reward_chosen, reward_rejected) -> dict:
    """Return accuracy, mean margin, calibration error and the pair count as plain floats."""
    return {
        "pairs": int(np.asarray(reward_chosen).size),
        "accuracy": accuracy(reward_chosen, reward_rejected),
        "mean_margin": mean_margin(reward_chosen, reward_rejected),
        "calibration_error": pair_calibration_error(reward_chosen, reward_rejected),
    }
