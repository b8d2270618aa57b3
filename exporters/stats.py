"""Running counts for the manifest: cheap per judgment, summarised once at the end."""
from __future__ import annotations

from collections import Counter

import numpy as np

from exporters.aggregate import LABEL_INDEX, LABELS
from prefkit import agreement as ag

BOOTSTRAP_RESAMPLES = 1000
CI_LEVEL = 0.95


class Accumulator:
    def __init__(self):
        self.comparisons_read = 0
        self.judgments_read = 0
        self.origins: Counter = Counter()
        self.guidelines: Counter = Counter()
        self.patterns: Counter = Counter()      # (n_a, n_b, n_tie, n_both_bad) -> comparisons
        self.patterns_ab: Counter = Counter()   # (n_a, n_b) -> comparisons
        self.left = [0, 0]                      # [chose the left response, judgments with known order]
        self.longer = [0, 0]                    # [chose the longer response, pairs of unequal length]
        self.dropped_judgments: Counter = Counter()
        self.dropped_comparisons: Counter = Counter()
        self.rows = {"train": 0, "test": 0}

    def add_comparison(self, comparison, judgments) -> None:
        self.comparisons_read += 1
        self.judgments_read += len(judgments)
        counts = [0, 0, 0, 0]
        len_a, len_b = len(comparison.response_a), len(comparison.response_b)
        for j in judgments:
            counts[LABEL_INDEX[j.choice]] += 1
            self.origins[j.origin] += 1
            self.guidelines[(j.guideline_version, j.guideline_sha256)] += 1
            if j.choice == "a" or j.choice == "b":
                chose_a = j.choice == "a"
                if j.display_order is not None:
                    self.left[1] += 1
                    self.left[0] += chose_a == (j.display_order == "AB")
                if len_a != len_b:
                    self.longer[1] += 1
                    self.longer[0] += chose_a == (len_a > len_b)
        self.patterns[tuple(counts)] += 1
        self.patterns_ab[(counts[0], counts[1])] += 1

    def drop_judgments(self, reason: str, n: int) -> None:
        if n:
            self.dropped_judgments[reason] += n

    def drop_comparison(self, reason: str) -> None:
        self.dropped_comparisons[reason] += 1

    def counts(self) -> dict:
        return {
            "comparisons_read": self.comparisons_read,
            "judgments_read": self.judgments_read,
            "rows_written": sum(self.rows.values()),
            "rows": {k: v for k, v in self.rows.items()},
            "dropped_judgments": dict(sorted(self.dropped_judgments.items())),
            "dropped_comparisons": dict(sorted(self.dropped_comparisons.items())),
        }

    def guideline_versions(self) -> list[dict]:
        def key(item):
            (version, sha), _ = item
            return (version is None, version or 0, sha or "")
        return [{"version": v, "sha256": sha, "judgments": n} for (v, sha), n in sorted(self.guidelines.items(), key=key)]

    def agreement(self, seed: int) -> dict:
        """Agreement among the selected judgments (all of them, whatever the tie policy)."""
        full = _unit_counts(self.patterns, len(LABELS))
        ab = _unit_counts(self.patterns_ab, 2)
        kw = {"n_resamples": BOOTSTRAP_RESAMPLES, "seed": seed, "level": CI_LEVEL}
        with_all = ag.agreement_summary(full, **kw)
        alpha = with_all["krippendorff_alpha"]
        alpha["value"] = _package_alpha(full, alpha["value"])
        return {
            "labels": list(LABELS),
            "raw_pairwise": with_all["raw_pairwise"],
            "raw_pairwise_without_ties": ag.agreement_summary(ab, **kw)["raw_pairwise"],
            "krippendorff_alpha_nominal": alpha,
            "bootstrap": {"unit": "comparison", "resamples": BOOTSTRAP_RESAMPLES, "level": CI_LEVEL, "seed": seed},
            "note": "n counts comparisons with at least two judgments; raw_pairwise_without_ties uses "
                    "only the a/b judgments",
        }

    def position_bias(self) -> dict:
        summary = ag.proportion_summary(self.left[0], self.left[1], level=CI_LEVEL)
        return {"p_left": summary, "note": "share of a/b judgments with a known display order that chose "
                                           "the response shown on the left; p_value tests 0.5"}

    def length_bias(self) -> dict:
        summary = ag.proportion_summary(self.longer[0], self.longer[1], level=CI_LEVEL)
        return {"p_longer": summary, "note": "share of a/b judgments on responses of unequal length "
                                             "(characters) that chose the longer one; p_value tests 0.5"}


def _unit_counts(patterns: Counter, width: int) -> np.ndarray:
    if not patterns:
        return np.zeros((0, width), dtype=np.int64)
    keys = np.array(sorted(patterns), dtype=np.int64)
    weights = np.array([patterns[tuple(k)] for k in keys.tolist()], dtype=np.int64)
    return np.repeat(keys, weights, axis=0)


def _package_alpha(counts: np.ndarray, fallback):
    """The point estimate from the `krippendorff` package itself (ours gives the same; tests check)."""
    import krippendorff
    pairable = counts[counts.sum(axis=1) >= 2]
    used = pairable[:, pairable.sum(axis=0) > 0]
    if len(pairable) == 0 or used.shape[1] < 2:
        return fallback
    return round(float(krippendorff.alpha(value_counts=used, level_of_measurement="nominal")), 6)
