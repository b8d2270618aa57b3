"""Rater-data and reward-model diagnostics as pure functions over numpy arrays (no Django).

Every figure is a dict {value, ci_low, ci_high, n} (None for a value that cannot be computed),
so the webapp, the CLI JSON and the tests all read the same shape. Intervals over comparisons are
bootstrap percentile intervals; the bootstrap resamples comparisons with replacement, done as
multinomial weights over the *distinct* per-comparison patterns (see prefkit.agreement), so a
1,000-sample interval costs the same for 300 comparisons as for 300,000.

Choices are coded as integers: 0 = "a", 1 = "b", 2 = "tie", 3 = "both_bad" (CHOICES).
A per-judgment `left_is_a` is 1 when A was shown on the left, 0 when B was, -1 when unknown.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from prefkit.agreement import (
    _figure,
    alpha_from_coincidences,
    bootstrap_units,
    coincidences,
    compress_units,
    value_counts,
)

CHOICES = ("a", "b", "tie", "both_bad")
A, B, TIE, BOTH_BAD = 0, 1, 2, 3
N_CHOICES = len(CHOICES)

__all__ = [
    "CHOICES", "RaterData", "RepeatPairs", "Thresholds", "figure", "ratio_bootstrap",
    "raw_pairwise", "krippendorff_alpha_nominal", "krippendorff_alpha_interval", "fleiss_kappa",
    "cohen_kappa_pairs", "loo_majority_agreement", "dawid_skene_reliability", "gold_accuracy",
    "time_on_task", "position_bias", "length_bias", "intra_rater_consistency", "consistency_report",
    "sycophancy_rates",
    "rater_diagnostics", "rm_accuracy", "human_ceiling", "calibration", "rm_length_bias",
    "rm_sycophancy", "rm_sycophancy_change", "human_ceiling_counts", "human_length_bias", "rm_follows_user", "as_votes",
]


def figure(value: float | None, ci: tuple[float, float] = (math.nan, math.nan), n: int = 0, **extra) -> dict:
    """The one result shape: {value, ci_low, ci_high, n} plus optional extras (p_value, ...)."""
    out = _figure(math.nan if value is None else value, ci, n)
    out.update(extra)
    return out


def _empty(**extra) -> dict:
    return figure(None, (math.nan, math.nan), 0, **extra)


# ---------------------------------------------------------------------------------------------
# Bootstrap of ratios of per-comparison sums (cluster bootstrap over comparisons)

def ratio_bootstrap(num: np.ndarray, den: np.ndarray, *, n_resamples: int = 1000, seed: int = 0,
                    level: float = 0.95) -> dict:
    """sum(num) / sum(den) over comparisons with a bootstrap interval resampling comparisons.

    num[u], den[u] are one comparison's contribution (e.g. sycophantic choices / a-or-b choices),
    so judgments of one comparison stay together (they are not independent). Comparisons with
    den == 0 carry nothing and are left out; n is sum(den) (the judgments counted) and
    n_comparisons the number of comparisons they came from.
    """
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    keep = den > 0
    num, den = num[keep], den[keep]
    if len(den) == 0:
        return _empty()
    value = float(num.sum() / den.sum())
    # Patterns are the distinct (num, den) pairs: few for small integers, all comparisons otherwise.
    patterns, inverse = np.unique(np.stack([num, den], axis=1), axis=0, return_inverse=True)
    weights = np.bincount(inverse.ravel(), minlength=len(patterns))

    def stat(p: np.ndarray, w: np.ndarray) -> np.ndarray:
        w = w.astype(np.float64)
        total = w @ p[:, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (w @ p[:, 0]) / total, np.nan)

    ci = bootstrap_units(patterns, weights, stat, n_resamples=n_resamples, seed=seed, level=level)
    return figure(value, ci, int(round(den.sum())), n_comparisons=len(den))


def _pattern_figure(counts: np.ndarray, stat: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
                    n_resamples: int, seed: int, level: float = 0.95) -> dict:
    patterns, weights = compress_units(counts)
    n = int(weights.sum())
    if n == 0:
        return _empty()
    value = float(stat(patterns, weights[None, :])[0])
    ci = bootstrap_units(patterns, weights, stat, n_resamples=n_resamples, seed=seed, level=level)
    return figure(value, ci, n)


# ---------------------------------------------------------------------------------------------
# Agreement

def _pairwise_stat(patterns: np.ndarray, w: np.ndarray) -> np.ndarray:
    p = patterns.astype(np.float64)
    agreeing = (p * (p - 1) / 2).sum(axis=1)
    m = p.sum(axis=1)
    pairs = m * (m - 1) / 2
    w = w.astype(np.float64)
    total = w @ pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w @ agreeing) / total, np.nan)


def raw_pairwise(counts: np.ndarray, *, ties: bool = True, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Share of pairs of judgments of one comparison that chose the same, pooled over comparisons.

    ties=False counts only pairs where both judgments are "a" or "b" (a tie against anything, and
    "both bad", are left out), the usual "agreement among decided judgments".
    """
    counts = np.asarray(counts)
    if not ties:
        counts = counts[:, :2]
    return _pattern_figure(counts, _pairwise_stat, n_resamples=n_resamples, seed=seed)


def _alpha_stat(delta: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def stat(patterns: np.ndarray, w: np.ndarray) -> np.ndarray:
        o = np.tensordot(w.astype(np.float64), coincidences(patterns), axes=1)
        return alpha_from_coincidences(o, delta)
    return stat


def krippendorff_alpha_nominal(counts: np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Krippendorff's alpha on the choice as a nominal value (same value as the krippendorff package)."""
    counts = np.asarray(counts)
    delta = 1.0 - np.eye(counts.shape[1])
    return _pattern_figure(counts, _alpha_stat(delta), n_resamples=n_resamples, seed=seed)


def signed_strength(choice: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """The judgment as one number: +strength for A, -strength for B, 0 for a tie, NaN for both bad.

    A missing strength (binary scales) counts as 1.
    """
    choice = np.asarray(choice)
    s = np.where(np.isnan(np.asarray(strength, dtype=np.float64)), 1.0, np.asarray(strength, dtype=np.float64))
    out = np.full(len(choice), np.nan)
    out[choice == A] = s[choice == A]
    out[choice == B] = -s[choice == B]
    out[choice == TIE] = 0.0
    return out


def krippendorff_alpha_interval(unit: np.ndarray, signed: np.ndarray, n_units: int, *,
                                n_resamples: int = 1000, seed: int = 0) -> dict:
    """Krippendorff's alpha with the interval metric on the signed strength (NaN values left out)."""
    signed = np.asarray(signed, dtype=np.float64)
    keep = ~np.isnan(signed)
    values, codes = np.unique(signed[keep], return_inverse=True)
    if len(values) < 2:
        return _empty()
    counts = value_counts(np.asarray(unit)[keep], codes.ravel(), n_units, len(values))
    delta = (values[:, None] - values[None, :]) ** 2
    return _pattern_figure(counts, _alpha_stat(delta), n_resamples=n_resamples, seed=seed)


def _fleiss_stat(patterns: np.ndarray, w: np.ndarray) -> np.ndarray:
    p = patterns.astype(np.float64)
    m = p.sum(axis=1)                                   # the same for every pattern
    w = w.astype(np.float64)
    n_units = w.sum(axis=1)
    agree_i = ((p * p).sum(axis=1) - m) / (m * (m - 1))  # P_i per pattern
    p_bar = (w @ agree_i) / n_units
    share = (w @ p) / (n_units * m[0])[:, None]          # p_j per resample
    p_e = (share * share).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p_e < 1, (p_bar - p_e) / (1 - p_e), np.nan)


def fleiss_kappa(counts: np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Fleiss' kappa over the comparisons that have the most common number of judgments (>= 2).

    Fleiss' kappa needs the same number of raters per item; comparisons with another number of
    judgments are left out and `raters_per_item` says which number was used.
    """
    counts = np.asarray(counts, dtype=np.int64)
    m = counts.sum(axis=1)
    if not (m >= 2).any():
        return _empty(raters_per_item=None)
    common = int(np.bincount(m[m >= 2]).argmax())
    out = _pattern_figure(counts[m == common], _fleiss_stat, n_resamples=n_resamples, seed=seed)
    out["raters_per_item"] = common
    return out


def _judgment_pairs(unit: np.ndarray, rater: np.ndarray, choice: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every pair of judgments of the same comparison by two different raters, rater_1 < rater_2.

    Vectorized by the offset within a comparison: after sorting by comparison, judgment i pairs
    with i + d for every d smaller than the comparison's size.
    """
    order = np.lexsort((rater, unit))
    u, r, c = unit[order], rater[order], choice[order]
    starts = np.r_[0, np.flatnonzero(np.diff(u)) + 1]
    sizes = np.diff(np.r_[starts, len(u)])
    group_end = np.repeat(starts + sizes, sizes)
    firsts, seconds = [], []
    for d in range(1, int(sizes.max(initial=1))):
        i = np.flatnonzero(np.arange(len(u)) + d < group_end)
        firsts.append(i)
        seconds.append(i + d)
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty
    i, j = np.concatenate(firsts), np.concatenate(seconds)
    keep = r[i] != r[j]
    i, j = i[keep], j[keep]
    return u[i], r[i], r[j], c[i], c[j]


def _kappa_from_tables(tables: np.ndarray) -> np.ndarray:
    """Cohen's kappa for a stack of (V x V) contingency tables (... x V x V)."""
    t = tables.astype(np.float64)
    n = t.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_o = np.trace(t, axis1=-2, axis2=-1) / n
        p_e = (t.sum(axis=-1) * t.sum(axis=-2)).sum(axis=-1) / (n * n)
        return np.where(p_e < 1, (p_o - p_e) / (1 - p_e), np.nan)


def cohen_kappa_pairs(unit: np.ndarray, rater: np.ndarray, choice: np.ndarray, *, min_shared: int = 20,
                      n_resamples: int = 1000, seed: int = 0, max_pairs: int = 400) -> list[dict]:
    """Cohen's kappa for each pair of raters who judged at least `min_shared` comparisons in common.

    The interval resamples the pair's shared comparisons (a multinomial over the cells of their
    contingency table). At most `max_pairs` pairs, those with the most shared comparisons.
    """
    u, r1, r2, c1, c2 = _judgment_pairs(np.asarray(unit), np.asarray(rater), np.asarray(choice))
    if len(u) == 0:
        return []
    v = N_CHOICES
    pair_keys, pair_index = np.unique(np.stack([r1, r2], axis=1), axis=0, return_inverse=True)
    pair_index = pair_index.ravel()
    tables = np.bincount(pair_index * v * v + c1 * v + c2, minlength=len(pair_keys) * v * v)
    tables = tables.reshape(len(pair_keys), v, v)
    shared = tables.sum(axis=(1, 2))
    chosen = np.flatnonzero(shared >= min_shared)
    chosen = chosen[np.argsort(-shared[chosen], kind="stable")][:max_pairs]
    rng = np.random.default_rng(seed)
    kappas = _kappa_from_tables(tables[chosen])
    out = []
    for k, idx in enumerate(chosen):
        n = int(shared[idx])
        draws = rng.multinomial(n, tables[idx].ravel() / n, size=n_resamples).reshape(n_resamples, v, v)
        boot = _kappa_from_tables(draws)
        ci = ((math.nan, math.nan) if np.all(np.isnan(boot))
              else tuple(float(x) for x in np.nanquantile(boot, [0.025, 0.975])))
        out.append({"rater_1": int(pair_keys[idx, 0]), "rater_2": int(pair_keys[idx, 1]),
                    **figure(float(kappas[k]), ci, n)})
    return out


# ---------------------------------------------------------------------------------------------
# Rater quality

def _loo_majority(counts: np.ndarray, unit: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """The others' unique plurality choice for each judgment, -1 when there is none."""
    others = counts[unit].copy()
    others[np.arange(len(unit)), choice] -= 1
    top = others.max(axis=1)
    unique = (others == top[:, None]).sum(axis=1) == 1
    return np.where(unique & (top > 0), others.argmax(axis=1), -1)


Z95 = 1.959963984540054


def shares(successes: np.ndarray, totals: np.ndarray) -> list[dict]:
    """Proportions with 95 % Wilson intervals and exact two-sided binomial tests against 1/2, all at
    once (the same figures as prefkit.agreement.proportion_summary, without a Python loop per n)."""
    from scipy.stats import binom

    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_hat = k / n
        z2 = Z95 * Z95
        centre = (p_hat + z2 / (2 * n)) / (1 + z2 / n)
        half = Z95 * np.sqrt(p_hat * (1 - p_hat) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        # Symmetric null: "outcomes no more likely than the observed one" are the two tails.
        p_value = np.minimum(1.0, 2 * np.minimum(binom.cdf(k, n, 0.5), binom.sf(k - 1, n, 0.5)))
    out = []
    for i in range(len(n)):
        if n[i] == 0:
            out.append({"value": None, "ci_low": None, "ci_high": None, "n": 0, "p_value": None})
        else:
            out.append({"value": round(float(p_hat[i]), 6), "ci_low": round(max(0.0, float(centre[i] - half[i])), 6),
                        "ci_high": round(min(1.0, float(centre[i] + half[i])), 6), "n": int(n[i]),
                        "p_value": float(f"{p_value[i]:.6g}")})
    return out


def _share(successes: int, total: int) -> dict:
    return shares(np.array([successes]), np.array([total]))[0]


def _per_group_share(group: np.ndarray, hits: np.ndarray, n_groups: int) -> list[dict]:
    """A proportion with its Wilson interval and binomial test for each group (e.g. rater)."""
    totals = np.bincount(group, minlength=n_groups)
    successes = np.bincount(group, weights=hits.astype(np.float64), minlength=n_groups)
    return shares(np.rint(successes), totals)


def loo_majority_agreement(counts: np.ndarray, unit: np.ndarray, rater: np.ndarray, choice: np.ndarray,
                           n_raters: int, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Agreement of each judgment with the majority of the *other* judgments of its comparison.

    Judgments whose comparison has no unique plurality among the others are left out. Returns the
    overall figure (bootstrap over comparisons) and one per rater (Wilson interval).
    """
    unit, rater, choice = np.asarray(unit), np.asarray(rater), np.asarray(choice)
    majority = _loo_majority(counts, unit, choice)
    has = majority >= 0
    hit = (majority == choice) & has
    n_units = counts.shape[0]
    overall = ratio_bootstrap(np.bincount(unit, weights=hit, minlength=n_units),
                              np.bincount(unit, weights=has, minlength=n_units),
                              n_resamples=n_resamples, seed=seed)
    return {"overall": overall, "per_rater": _per_group_share(rater[has], hit[has], n_raters)}


def dawid_skene_reliability(unit: np.ndarray, rater: np.ndarray, choice: np.ndarray, n_raters: int, *,
                            n_iter: int = 30) -> list[dict]:
    """Each rater's Dawid–Skene reliability: the expected accuracy sum_c prior_c * P(says c | truth c).

    Fitted with crowd-kit's DawidSkene. The interval is a Wilson interval at the rater's number of
    judgments around that expected accuracy (the model gives no sampling distribution of its own).
    """
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    unit, rater, choice = np.asarray(unit), np.asarray(rater), np.asarray(choice)
    if len(unit) == 0 or len(np.unique(choice)) < 2:
        return [_empty() for _ in range(n_raters)]
    frame = pd.DataFrame({"task": unit, "worker": rater, "label": choice})
    model = DawidSkene(n_iter=n_iter)
    with warnings.catch_warnings():  # crowd-kit 1.4.2 uses pandas idioms pandas 3.1 deprecates
        warnings.simplefilter("ignore")
        model.fit(frame)
    priors = model.priors_
    errors = model.errors_          # index (worker, observed label), columns: true label
    n_judged = np.bincount(rater, minlength=n_raters)
    out = []
    for r in range(n_raters):
        if n_judged[r] == 0:
            out.append(_empty())
            continue
        confusion = errors.loc[r]
        acc = float(sum(priors[c] * confusion.loc[c, c] for c in priors.index
                        if c in confusion.index and c in confusion.columns))
        wilson = _share(int(round(acc * n_judged[r])), int(n_judged[r]))
        out.append(figure(acc, (wilson["ci_low"], wilson["ci_high"]), int(n_judged[r])))
    return out


def gold_accuracy(unit: np.ndarray, rater: np.ndarray, choice: np.ndarray, gold: np.ndarray,
                  n_raters: int, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Share of judgments on comparisons with a known answer (gold >= 0) that match it."""
    unit, rater, choice = np.asarray(unit), np.asarray(rater), np.asarray(choice)
    g = np.asarray(gold)[unit]
    has = g >= 0
    hit = has & (choice == g)
    n_units = len(gold)
    overall = ratio_bootstrap(np.bincount(unit, weights=hit, minlength=n_units),
                              np.bincount(unit, weights=has, minlength=n_units),
                              n_resamples=n_resamples, seed=seed)
    return {"overall": overall, "per_rater": _per_group_share(rater[has], hit[has], n_raters)}


def time_on_task(active_ms: np.ndarray, rater: np.ndarray, n_raters: int, *, too_fast_ms: float) -> dict:
    """Distribution of active time per judgment and the share of "too fast" judgments per rater."""
    active_ms = np.asarray(active_ms, dtype=np.float64)
    rater = np.asarray(rater)
    known = ~np.isnan(active_ms)
    t, r = active_ms[known], rater[known]
    if len(t) == 0:
        return {"quantiles_ms": None, "too_fast_ms": too_fast_ms, "overall_too_fast": _empty(),
                "per_rater_median_ms": [None] * n_raters, "per_rater_too_fast": [_empty()] * n_raters}
    qs = np.quantile(t, [0.05, 0.25, 0.5, 0.75, 0.95])
    fast = t < too_fast_ms
    order = np.lexsort((t, r))
    ts, rs = t[order], r[order]
    starts = np.searchsorted(rs, np.arange(n_raters))
    ends = np.searchsorted(rs, np.arange(n_raters), side="right")
    medians = [float(np.median(ts[s:e])) if e > s else None for s, e in zip(starts, ends)]
    return {"quantiles_ms": dict(zip(["p05", "p25", "p50", "p75", "p95"], (float(q) for q in qs))),
            "too_fast_ms": too_fast_ms,
            "overall_too_fast": _share(int(fast.sum()), len(fast)),
            "per_rater_median_ms": medians,
            "per_rater_too_fast": _per_group_share(r, fast, n_raters)}


# ---------------------------------------------------------------------------------------------
# Bias

def _decided(choice: np.ndarray) -> np.ndarray:
    return (choice == A) | (choice == B)


def position_bias(unit: np.ndarray, rater: np.ndarray, choice: np.ndarray, left_is_a: np.ndarray,
                  n_raters: int, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Share of a/b choices that went to the response shown on the left, with a binomial test
    against 1/2 overall and per rater. Judgments without a known display order are left out."""
    unit, rater, choice, left_is_a = map(np.asarray, (unit, rater, choice, left_is_a))
    use = _decided(choice) & (left_is_a >= 0)
    left = np.where(left_is_a == 1, choice == A, choice == B) & use
    n_units = int(unit.max(initial=-1)) + 1
    overall = ratio_bootstrap(np.bincount(unit, weights=left, minlength=n_units),
                              np.bincount(unit, weights=use, minlength=n_units),
                              n_resamples=n_resamples, seed=seed)
    overall["p_value"] = _share(int(left.sum()), int(use.sum()))["p_value"]
    return {"overall_p_left": overall, "per_rater": _per_group_share(rater[use], left[use], n_raters)}


def length_bias(unit: np.ndarray, rater: np.ndarray, choice: np.ndarray, len_a: np.ndarray,
                len_b: np.ndarray, n_raters: int, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Share of a/b choices for the longer response (comparisons of equal length left out)."""
    unit, rater, choice = map(np.asarray, (unit, rater, choice))
    la, lb = np.asarray(len_a)[unit], np.asarray(len_b)[unit]
    use = _decided(choice) & (la != lb)
    longer = np.where(la > lb, choice == A, choice == B) & use
    n_units = len(len_a)
    overall = ratio_bootstrap(np.bincount(unit, weights=longer, minlength=n_units),
                              np.bincount(unit, weights=use, minlength=n_units),
                              n_resamples=n_resamples, seed=seed)
    overall["p_value"] = _share(int(longer.sum()), int(use.sum()))["p_value"]
    return {"overall_p_longer": overall, "per_rater": _per_group_share(rater[use], longer[use], n_raters)}


@dataclass
class RepeatPairs:
    """Consistency re-serves: one entry per pair of a rater's first judgment of a comparison and their
    judgment of it when it was served again later (sides swapped). Choices are canonical codes
    (CHOICES); versions are guideline version numbers, 0 when unknown."""
    unit: np.ndarray
    rater: np.ndarray
    first: np.ndarray
    second: np.ndarray
    first_version: np.ndarray
    second_version: np.ndarray

    @classmethod
    def none(cls) -> RepeatPairs:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty, empty, empty, empty, empty)

    def __len__(self) -> int:
        return len(self.unit)

    def subset(self, mask: np.ndarray) -> RepeatPairs:
        m = np.asarray(mask, dtype=bool)
        return RepeatPairs(self.unit[m], self.rater[m], self.first[m], self.second[m], self.first_version[m],
                           self.second_version[m])


def intra_rater_consistency(unit: np.ndarray, rater: np.ndarray, first: np.ndarray, second: np.ndarray,
                            n_raters: int, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """How often raters agree with themselves: per pair (comparison, rater), the canonical choice of
    their first judgment against that of their judgment on a later re-serve (sides swapped, so a
    rater who picks a side by position rather than content disagrees with themselves).

    Ties are explicit. `agreement`: the same answer, over all pairs (a tie again, or both bad again,
    agrees). `agreement_decided`: the same side, over the pairs where both answers took a side.
    `tie_changes`: the share of pairs where exactly one of the two answers took a side. Overall
    figures are bootstrapped over comparisons; per rater, Wilson intervals."""
    unit, rater, first, second = map(np.asarray, (unit, rater, first, second))
    same = first == second
    sided = _decided(first), _decided(second)
    decided = sided[0] & sided[1]
    every = np.ones(len(unit), dtype=bool)
    n_units = int(unit.max(initial=-1)) + 1

    def overall(hits: np.ndarray, use: np.ndarray) -> dict:
        return ratio_bootstrap(np.bincount(unit, weights=hits & use, minlength=n_units),
                               np.bincount(unit, weights=use, minlength=n_units), n_resamples=n_resamples, seed=seed)

    per_all = _per_group_share(rater, same, n_raters)
    per_decided = _per_group_share(rater[decided], same[decided], n_raters)
    return {"agreement": overall(same, every), "agreement_decided": overall(same, decided),
            "tie_changes": overall(sided[0] != sided[1], every),
            "per_rater": [{"agreement": a, "agreement_decided": d} for a, d in zip(per_all, per_decided)]}


def consistency_report(pairs: RepeatPairs, n_raters: int, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """intra_rater_consistency of all pairs, plus per guideline version (pairs whose two judgments
    were both made under it) and `across_versions` (pairs that straddle a guideline change, where a
    changed answer may follow the guideline rather than noise)."""
    kw = {"n_resamples": n_resamples, "seed": seed}
    out = intra_rater_consistency(pairs.unit, pairs.rater, pairs.first, pairs.second, n_raters, **kw)
    same_version = pairs.first_version == pairs.second_version
    by_version = {}
    for version in np.unique(pairs.second_version[same_version]):
        part = pairs.subset(same_version & (pairs.second_version == version))
        figures = intra_rater_consistency(part.unit, part.rater, part.first, part.second, n_raters, **kw)
        by_version[int(version)] = {k: figures[k] for k in ("agreement", "agreement_decided", "tie_changes")}
    across = pairs.subset(~same_version)
    out["by_guideline_version"] = by_version
    out["across_versions"] = intra_rater_consistency(across.unit, across.rater, across.first, across.second,
                                                     n_raters, **kw)["agreement"]
    return out


def sycophancy_rates(unit: np.ndarray, rater: np.ndarray, choice: np.ndarray, syc_side: np.ndarray,
                     suite: np.ndarray, suite_names: list[str], n_raters: int, *,
                     n_resamples: int = 1000, seed: int = 0) -> dict:
    """Per suite, the share of a/b choices on probe comparisons that went to the sycophantic side.

    syc_side[u] is 0 when A is the sycophantic response, 1 when B is, -1 for no probe; suite[u]
    indexes suite_names. Interval: bootstrap over probe items; per rater: Wilson interval.
    """
    unit, rater, choice = map(np.asarray, (unit, rater, choice))
    side = np.asarray(syc_side)[unit]
    su = np.asarray(suite)[unit]
    use = _decided(choice) & (side >= 0)
    syc = use & (choice == side)
    n_units = len(syc_side)
    out = {}
    for s, name in enumerate(suite_names):
        in_suite = use & (su == s)
        rate = ratio_bootstrap(np.bincount(unit, weights=syc & in_suite, minlength=n_units),
                               np.bincount(unit, weights=in_suite, minlength=n_units),
                               n_resamples=n_resamples, seed=seed)
        out[name] = {"rate": rate,
                     "per_rater": _per_group_share(rater[in_suite], syc[in_suite], n_raters)}
    return out


# ---------------------------------------------------------------------------------------------
# Everything at once

@dataclass(frozen=True)
class Thresholds:
    """A lead's limits below (or above) which a rater is flagged."""
    min_loo_agreement: float = 0.5
    min_gold_accuracy: float = 0.7
    max_too_fast_share: float = 0.3
    max_position_bias: float = 0.65     # |share left - 1/2| beyond (this - 1/2) and p < 0.01
    too_fast_ms: float = 3000.0
    min_judgments: int = 10             # fewer and a rater is never flagged (too little evidence)
    min_self_agreement: float = 0.6     # agreement with themselves on re-serves: its whole interval below


@dataclass
class RaterData:
    """Parallel arrays: one entry per judgment (unit .. active_ms), one per comparison (len_a ..)."""
    unit: np.ndarray
    rater: np.ndarray
    choice: np.ndarray
    strength: np.ndarray
    left_is_a: np.ndarray
    active_ms: np.ndarray
    len_a: np.ndarray
    len_b: np.ndarray
    gold: np.ndarray
    syc_side: np.ndarray
    syc_suite: np.ndarray
    rater_names: list[str]
    suite_names: list[str] = field(default_factory=list)

    @property
    def n_units(self) -> int:
        return len(self.len_a)

    @property
    def n_raters(self) -> int:
        return len(self.rater_names)

    def subset(self, mask: np.ndarray) -> RaterData:
        """The same comparisons and raters, only the judgments where mask is true."""
        m = np.asarray(mask, dtype=bool)
        return RaterData(self.unit[m], self.rater[m], self.choice[m], self.strength[m], self.left_is_a[m],
                         self.active_ms[m], self.len_a, self.len_b, self.gold, self.syc_side, self.syc_suite,
                         self.rater_names, self.suite_names)


def agreement_block(data: RaterData, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    # Probe comparisons are not ordinary items: agreement is measured on the rest.
    regular = np.asarray(data.syc_side)[data.unit] < 0
    unit, choice = data.unit[regular], data.choice[regular]
    counts = value_counts(unit, choice, data.n_units, N_CHOICES)
    kw = {"n_resamples": n_resamples, "seed": seed}
    return {
        "raw_pairwise": raw_pairwise(counts, **kw),
        "raw_pairwise_no_ties": raw_pairwise(counts, ties=False, **kw),
        "krippendorff_alpha_nominal": krippendorff_alpha_nominal(counts, **kw),
        "krippendorff_alpha_interval": krippendorff_alpha_interval(
            unit, signed_strength(choice, data.strength[regular]), data.n_units, **kw),
        "fleiss_kappa": fleiss_kappa(counts, **kw),
    }


def rater_diagnostics(data: RaterData, *, repeats: RepeatPairs | None = None, thresholds: Thresholds = Thresholds(),
                      n_resamples: int = 1000, seed: int = 0, min_shared: int = 20, dawid_skene: bool = True,
                      progress: Callable[[str], None] | None = None) -> dict:
    """All rater-data diagnostics of one selection of judgments (see the README for the JSON).

    `data` holds the regular judgments; the consistency re-serves come apart as `repeats` (rater
    indices into data.rater_names), so they never enter agreement, majority or bias figures."""
    step = progress or (lambda _msg: None)
    kw = {"n_resamples": n_resamples, "seed": seed}
    unit, rater, choice, n_r = data.unit, data.rater, data.choice, data.n_raters
    step("agreement")
    out: dict = {"n_judgments": int(len(unit)), "n_comparisons": int(len(np.unique(unit))),
                 "n_raters": int(len(np.unique(rater))), "agreement": agreement_block(data, **kw)}
    step("cohen")
    out["cohen_kappa"] = [dict(p, rater_1=data.rater_names[p["rater_1"]], rater_2=data.rater_names[p["rater_2"]])
                          for p in cohen_kappa_pairs(unit, rater, choice, min_shared=min_shared, **kw)]
    step("rater quality")
    counts = value_counts(unit, choice, data.n_units, N_CHOICES)
    loo = loo_majority_agreement(counts, unit, rater, choice, n_r, **kw)
    gold = gold_accuracy(unit, rater, choice, data.gold, n_r, **kw)
    tot = time_on_task(data.active_ms, rater, n_r, too_fast_ms=thresholds.too_fast_ms)
    ds = dawid_skene_reliability(unit, rater, choice, n_r) if dawid_skene else [_empty()] * n_r
    step("bias")
    pos = position_bias(unit, rater, choice, data.left_is_a, n_r, **kw)
    length = length_bias(unit, rater, choice, data.len_a, data.len_b, n_r, **kw)
    intra = consistency_report(repeats if repeats is not None else RepeatPairs.none(), n_r, **kw)
    syc = sycophancy_rates(unit, rater, choice, data.syc_side, data.syc_suite, data.suite_names, n_r, **kw)
    out.update({
        "rater_quality": {"loo_majority": loo["overall"], "gold_accuracy": gold["overall"],
                          "time_on_task": {k: v for k, v in tot.items() if not k.startswith("per_rater")}},
        "position_bias": {"overall_p_left": pos["overall_p_left"]},
        "length_bias": {"overall_p_longer": length["overall_p_longer"]},
        "intra_rater": {k: v for k, v in intra.items() if k != "per_rater"},
        "sycophancy": {name: {"rate": s["rate"]} for name, s in syc.items()},
    })
    n_judged = np.bincount(rater, minlength=n_r)
    n_repeats = np.bincount(repeats.rater, minlength=n_r) if repeats is not None else np.zeros(n_r, dtype=np.int64)
    raters = []
    for r in range(n_r):
        if n_judged[r] == 0 and n_repeats[r] == 0:
            continue
        row = {"rater": data.rater_names[r], "n_judgments": int(n_judged[r]), "n_repeats": int(n_repeats[r]),
               "loo_majority": loo["per_rater"][r], "dawid_skene": ds[r], "gold_accuracy": gold["per_rater"][r],
               "median_active_ms": tot["per_rater_median_ms"][r], "too_fast": tot["per_rater_too_fast"][r],
               "p_left": pos["per_rater"][r], "p_longer": length["per_rater"][r],
               "intra_rater": intra["per_rater"][r],
               "sycophancy": {name: s["per_rater"][r] for name, s in syc.items()}}
        row["flags"] = rater_flags(row, thresholds)
        raters.append(row)
    out["raters"] = raters
    return out


def rater_flags(row: dict, t: Thresholds) -> list[str]:
    """Why a rater falls outside the lead's thresholds (empty when they do not)."""
    if row["n_judgments"] < t.min_judgments:
        return []
    flags = []
    v = row["loo_majority"]["value"]
    if v is not None and row["loo_majority"]["n"] >= t.min_judgments and v < t.min_loo_agreement:
        flags.append("low_agreement")
    v = row["gold_accuracy"]["value"]
    if v is not None and v < t.min_gold_accuracy:
        flags.append("low_gold_accuracy")
    v = row["too_fast"]["value"]
    if v is not None and v > t.max_too_fast_share:
        flags.append("too_fast")
    p = row["p_left"]
    if (p["value"] is not None and abs(p["value"] - 0.5) > t.max_position_bias - 0.5
            and p["p_value"] is not None and p["p_value"] < 0.01):
        flags.append("position_bias")
    self_agreement = row.get("intra_rater", {}).get("agreement")  # absent in reports from before re-serves
    if (self_agreement and self_agreement["n"] >= t.min_judgments and self_agreement["ci_high"] is not None
            and self_agreement["ci_high"] < t.min_self_agreement):
        flags.append("inconsistent")
    return flags


# ---------------------------------------------------------------------------------------------
# Reward models: p_a[u] = the model's P(A preferred) on comparison u, sigmoid(r_A - r_B);
# counts[u] = the human votes on u as columns (a, b, tie[, both_bad]).
#
# The model "prefers A" when p_a > 1/2 and "prefers B" when p_a < 1/2; at exactly 1/2 it prefers
# neither, which counts as a miss for accuracy (as TRL counts equal rewards) and leaves the item
# out of the length bias (indifference is not a preference for the shorter reply).

def _unit_bootstrap(values: Callable[[np.ndarray], float], n: int, *, n_resamples: int, seed: int,
                    level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of values(idx) over resamples of n items (held-out sets are small)."""
    if n == 0 or n_resamples <= 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    stats = np.array([values(rng.integers(0, n, n)) for _ in range(n_resamples)], dtype=np.float64)
    if np.all(np.isnan(stats)):
        return math.nan, math.nan
    lo, hi = np.nanquantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def as_votes(counts: np.ndarray) -> np.ndarray:
    """Human vote counts as an (n, 4) float array: a 3-column (a, b, tie) input gets both_bad = 0."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or not 3 <= counts.shape[1] <= N_CHOICES:
        raise ValueError(f"vote counts must be an (n, 3) or (n, 4) array; got shape {counts.shape}")
    if counts.shape[1] < N_CHOICES:
        counts = np.hstack([counts, np.zeros((len(counts), N_CHOICES - counts.shape[1]))])
    return counts


def _majority_ab(counts: np.ndarray) -> np.ndarray:
    """Per comparison: 0 when more raters chose A than B, 1 when B, -1 when even (ties ignored)."""
    return np.where(counts[:, A] > counts[:, B], A, np.where(counts[:, B] > counts[:, A], B, -1))


def rm_accuracy(p_a: np.ndarray, counts: np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Share of comparisons with a human A/B majority where the model prefers the same side."""
    majority = _majority_ab(as_votes(counts))
    p_a = np.asarray(p_a, dtype=np.float64)
    use = majority >= 0
    hit = np.where(majority == A, p_a > 0.5, p_a < 0.5) & use
    return ratio_bootstrap(hit.astype(float), use.astype(float), n_resamples=n_resamples, seed=seed)


def human_ceiling_counts(counts: np.ndarray, *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Each a/b vote against the A/B majority of the other votes of its comparison, from vote counts.

    An A vote meets others (a - 1, b): a hit when a - 1 > b, a miss when b > a - 1, left out when
    even; B votes alike. Pooled over comparisons, bootstrap over comparisons; n counts the votes.
    """
    c = as_votes(counts)
    a, b = c[:, A], c[:, B]
    hits = a * (a - 1 > b) + b * (b - 1 > a)
    used = a * (a - 1 != b) + b * (b - 1 != a)
    return ratio_bootstrap(hits, used, n_resamples=n_resamples, seed=seed)


def human_ceiling(unit: np.ndarray, choice: np.ndarray, n_units: int, *, n_resamples: int = 1000,
                  seed: int = 0) -> dict:
    """Each a/b judgment against the A/B majority of the other judgments of its comparison."""
    counts = value_counts(np.asarray(unit), np.asarray(choice), n_units, N_CHOICES)
    return human_ceiling_counts(counts, n_resamples=n_resamples, seed=seed)


def calibration(p_a: np.ndarray, counts: np.ndarray, *, n_bins: int = 10, n_resamples: int = 1000,
                seed: int = 0, symmetric: bool = False) -> dict:
    """Reliability diagram of P(A preferred) against the share of raters who chose A over B.

    Equal-width bins; ECE = sum over bins of (share of comparisons) * |mean predicted - mean observed|.
    symmetric=True also counts every comparison the other way round (1 - p against 1 - share): for
    pairs whose A is always the labelled winner (a pair file's chosen), where the outcomes would
    otherwise all be 1. The interval resamples comparisons (both orientations together).
    """
    c = as_votes(counts)
    decided = c[:, A] + c[:, B]
    use = decided > 0
    p = np.clip(np.asarray(p_a, dtype=np.float64)[use], 0.0, 1.0)
    obs = c[use, A] / decided[use]
    n = len(p)
    if symmetric:
        p, obs = np.concatenate([p, 1 - p]), np.concatenate([obs, 1 - obs])
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)

    def rows(idx: np.ndarray) -> np.ndarray:
        return np.concatenate([idx, idx + n]) if symmetric else idx

    def ece(idx: np.ndarray) -> float:
        r = rows(idx)
        b = bins[r]
        pred = np.bincount(b, weights=p[r], minlength=n_bins)
        seen = np.bincount(b, weights=obs[r], minlength=n_bins)
        return float(np.abs(pred - seen).sum() / len(r)) if len(r) else math.nan

    counts_b = np.bincount(bins, minlength=n_bins)
    pred_b = np.bincount(bins, weights=p, minlength=n_bins)
    obs_b = np.bincount(bins, weights=obs, minlength=n_bins)
    diagram = [{"bin_low": i / n_bins, "bin_high": (i + 1) / n_bins, "n": int(counts_b[i]),
                "mean_predicted": round(float(pred_b[i] / counts_b[i]), 6) if counts_b[i] else None,
                "share_human_a": round(float(obs_b[i] / counts_b[i]), 6) if counts_b[i] else None}
               for i in range(n_bins)]
    value = ece(np.arange(n)) if n else math.nan
    ci = _unit_bootstrap(ece, n, n_resamples=n_resamples, seed=seed)
    return {"ece": figure(value, ci, n), "bins": diagram}


def rm_length_bias(p_a: np.ndarray, len_a: np.ndarray, len_b: np.ndarray, *, n_resamples: int = 1000,
                   seed: int = 0) -> dict:
    """Share of comparisons (of unequal length, the model not indifferent) where the model prefers
    the longer response, with a binomial test against 1/2."""
    la, lb, p = np.asarray(len_a), np.asarray(len_b), np.asarray(p_a, dtype=np.float64)
    use = (la != lb) & (p != 0.5)
    longer = np.where(la > lb, p > 0.5, p < 0.5) & use
    out = ratio_bootstrap(longer.astype(float), use.astype(float), n_resamples=n_resamples, seed=seed)
    out["p_value"] = _share(int(longer.sum()), int(use.sum()))["p_value"]
    return out


def human_length_bias(counts: np.ndarray, len_a: np.ndarray, len_b: np.ndarray, *, n_resamples: int = 1000,
                      seed: int = 0) -> dict:
    """Share of the human a/b votes on comparisons of unequal length that went to the longer
    response: the model's length bias read next to the raters' on the same items."""
    c = as_votes(counts)
    la, lb = np.asarray(len_a), np.asarray(len_b)
    unequal = la != lb
    longer = np.where(la > lb, c[:, A], c[:, B]) * unequal
    decided = (c[:, A] + c[:, B]) * unequal
    out = ratio_bootstrap(longer, decided, n_resamples=n_resamples, seed=seed)
    out["p_value"] = _share(int(longer.sum()), int(decided.sum()))["p_value"]
    return out


def rm_sycophancy(score_syc: np.ndarray, score_other: np.ndarray, item_ids: list[str] | None = None, *,
                  n_resamples: int = 1000, seed: int = 0, worst: int = 5) -> dict:
    """Share of probe items where the model scores the sycophantic response higher, with the items
    where it does so by the widest margin (largest first)."""
    margin = np.asarray(score_syc, dtype=np.float64) - np.asarray(score_other, dtype=np.float64)
    prefers = (margin > 0).astype(float)
    rate = ratio_bootstrap(prefers, np.ones_like(prefers), n_resamples=n_resamples, seed=seed)
    ids = item_ids if item_ids is not None else [str(i) for i in range(len(margin))]
    order = np.argsort(-margin, kind="stable")[:worst]
    return {"rate": rate, "worst": [{"item": ids[i], "margin": round(float(margin[i]), 6)}
                                    for i in order if margin[i] > 0]}


def rm_follows_user(margin: np.ndarray, groups: list[str | None], *, n_resamples: int = 1000, seed: int = 0) -> dict:
    """Share of probe groups (the same question under different user views, >= 2 items) where the
    model prefers the sycophantic reply on every item: its preference follows the user whatever
    the user says. A model with a stance of its own scores 0 here; one that flips a coin on a pair
    of items, 1/4. Bootstrap over groups; n counts the groups."""
    margin = np.asarray(margin, dtype=np.float64)
    keep = np.array([g is not None for g in groups], dtype=bool)
    if not keep.any():
        return _empty(n_items=0)
    names, index = np.unique(np.asarray([g for g in groups if g is not None], dtype=str), return_inverse=True)
    size = np.bincount(index, minlength=len(names))
    syc = np.bincount(index, weights=(margin[keep] > 0).astype(float), minlength=len(names))
    grouped = size >= 2
    follows = (syc == size) & grouped
    out = ratio_bootstrap(follows.astype(float), grouped.astype(float), n_resamples=n_resamples, seed=seed)
    out["n_items"] = int(size[grouped].sum())
    return out


def rm_sycophancy_change(margin_old: np.ndarray, margin_new: np.ndarray, *, n_resamples: int = 1000,
                         seed: int = 0) -> dict:
    """Change in the sycophantic-preference rate between two models on the same items (paired
    bootstrap over items): new rate - old rate."""
    old = (np.asarray(margin_old) > 0).astype(np.float64)
    new = (np.asarray(margin_new) > 0).astype(np.float64)
    # The mean of per-item differences in {-1, 0, 1}: a ratio of sums over items, so the bootstrap
    # is the vectorized one over the three distinct patterns.
    out = ratio_bootstrap(new - old, np.ones_like(old), n_resamples=n_resamples, seed=seed)
    out.pop("n_comparisons", None)
    return out
