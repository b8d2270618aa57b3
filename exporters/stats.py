"""Running counts for the manifest: cheap per judgment, summarised once at the end."""
from __future__ import annotations

from collections import Counter

import numpy as np

from exporters.aggregate import LABEL_INDEX, LABELS, one_vote_per_rater
from prefkit import agreement as ag

BOOTSTRAP_RESAMPLES = 1000
CI_LEVEL = 0.95


class Accumulator:
    def __init__(self):
        self.comparisons_read = 0
        self.judgments_read = 0
        self.provenance: dict = {}              # (origin, guideline version, sha256) -> judgments
        self.patterns: dict = {}                # (n_a, n_b, n_tie, n_both_bad) -> comparisons
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
        a_longer, unequal = len_a > len_b, len_a != len_b
        provenance = self.provenance
        left = known = longer = compared = repeats = 0
        for j in judgments:
            choice = j.choice
            repeats += j.repeat
            counts[LABEL_INDEX[choice]] += 1
            key = (j.origin, j.guideline_version, j.guideline_sha256)
            provenance[key] = provenance.get(key, 0) + 1
            if choice == "a" or choice == "b":
                chose_a = choice == "a"
                if j.display_order is not None:
                    known += 1
                    left += chose_a == (j.display_order == "AB")
                if unequal:
                    compared += 1
                    longer += chose_a == a_longer
        self.left[0] += left
        self.left[1] += known
        self.longer[0] += longer
        self.longer[1] += compared
        if repeats:  # agreement is between raters: a rater's consistency repeat is not a second one
            counts = [0, 0, 0, 0]
            for j in one_vote_per_rater(judgments):
                counts[LABEL_INDEX[j.choice]] += 1
        key = tuple(counts)
        self.patterns[key] = self.patterns.get(key, 0) + 1

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

    def origins(self) -> dict:
        totals: Counter = Counter()
        for (origin, _, _), n in self.provenance.items():
            totals[origin] += n
        return dict(sorted(totals.items()))

    def guideline_versions(self) -> list[dict]:
        totals: Counter = Counter()
        for (_, version, sha), n in self.provenance.items():
            totals[(version, sha)] += n
        order = sorted(totals, key=lambda vs: (vs[0] is None, vs[0] or 0, vs[1] or ""))
        return [{"version": v, "sha256": sha, "judgments": totals[(v, sha)]} for v, sha in order]

    def agreement(self, seed: int) -> dict:
        """Agreement among the selected judgments (all of them, whatever the tie policy)."""
        full, weights = _patterns(self.patterns)
        ab_counter: Counter = Counter()
        for (n_a, n_b, _, _), n in self.patterns.items():
            ab_counter[(n_a, n_b)] += n
        ab, ab_weights = _patterns(ab_counter)
        kw = {"n_resamples": BOOTSTRAP_RESAMPLES, "seed": seed, "level": CI_LEVEL}
        with_all = ag.agreement_summary(full, weights=weights, **kw)
        alpha = with_all["krippendorff_alpha"]
        alpha["value"], alpha["computed_by"] = _package_alpha(full, weights, alpha["value"])
        return {
            "labels": list(LABELS),
            "raw_pairwise": with_all["raw_pairwise"],
            "raw_pairwise_without_ties": ag.agreement_summary(ab, weights=ab_weights, **kw)["raw_pairwise"],
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


def _patterns(counter) -> tuple[np.ndarray, np.ndarray]:
    """The running {count vector: comparisons} tally as (patterns, weights) arrays, in a fixed order."""
    width = len(next(iter(counter))) if counter else len(LABELS)
    keys = sorted(counter)
    patterns = np.array(keys, dtype=np.int64).reshape(len(keys), width)
    return patterns, np.array([counter[k] for k in keys], dtype=np.int64)


PACKAGE_ALPHA_MAX_UNITS = 100_000


def _package_alpha(patterns: np.ndarray, weights: np.ndarray, ours) -> tuple[float | None, str]:
    """The point estimate from the `krippendorff` package itself, up to 100,000 comparisons.

    The package needs one row per comparison and ~400 bytes and 8 us per row (+128 MB, 2.6 s at
    333k), which would make memory grow with the export; above the limit the pattern-weighted
    formula in prefkit.agreement gives the same number (equal to 1e-12 in the tests) in constant memory.
    """
    pairable = patterns.sum(axis=1) >= 2
    if int(weights[pairable].sum()) > PACKAGE_ALPHA_MAX_UNITS:
        return ours, "prefkit.agreement"
    import krippendorff
    units = np.repeat(patterns[pairable], weights[pairable], axis=0)
    used = units[:, units.sum(axis=0) > 0]
    if len(units) == 0 or used.shape[1] < 2:
        return ours, "prefkit.agreement"
    return round(float(krippendorff.alpha(value_counts=used, level_of_measurement="nominal")), 6), "krippendorff"
