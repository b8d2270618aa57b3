"""Agreement and bias statistics as pure functions over numpy arrays (no Django, no pandas).

The unit of analysis is a comparison ("unit" in Krippendorff's terms). Most functions take
`counts`: an (N units x V values) integer array, counts[u, v] = how many judgments of unit u
chose value v. Krippendorff's alpha and raw pairwise agreement depend on the data only through
these per-unit count vectors, and units with the same count vector are interchangeable, so the
bootstrap below resamples *patterns* (distinct count vectors) with multinomial weights: that is
exactly "resample comparisons with replacement", at a cost that does not grow with the number
of comparisons.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "value_counts", "compress_units", "coincidences", "alpha_from_coincidences", "krippendorff_alpha",
    "pairwise_agreement", "bootstrap_units", "agreement_summary", "proportion_summary",
    "position_bias", "length_bias",
]


def value_counts(unit_index: np.ndarray, values: np.ndarray, n_units: int, n_values: int) -> np.ndarray:
    """(N x V) counts from parallel arrays: judgment i belongs to unit_index[i] and chose values[i]."""
    unit_index = np.asarray(unit_index, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    flat = np.bincount(unit_index * n_values + values, minlength=n_units * n_values)
    return flat.reshape(n_units, n_values)


def compress_units(counts: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct count vectors among units with at least two judgments, and how many units have each.

    Units with fewer than two judgments carry no information about agreement (alpha and pairwise
    agreement both ignore them), so they are left out here. `weights`, when given, says how many
    units each row of `counts` stands for (counts already tallied by pattern).
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, np.shape(counts)[-1])
    weights = np.ones(len(counts), dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)
    keep = (counts.sum(axis=1) >= 2) & (weights > 0)
    counts, weights = counts[keep], weights[keep]
    if len(counts) == 0:
        return np.zeros((0, counts.shape[1]), dtype=np.int64), np.zeros(0, dtype=np.int64)
    patterns, inverse = np.unique(counts, axis=0, return_inverse=True)
    return patterns, np.bincount(inverse.ravel(), weights=weights, minlength=len(patterns)).astype(np.int64)


def coincidences(patterns: np.ndarray) -> np.ndarray:
    """Each pattern's contribution to Krippendorff's coincidence matrix: (P x V x V).

    o_u[c, k] = (n_uc * n_uk - [c == k] * n_uc) / (m_u - 1), m_u = judgments in the unit.
    """
    patterns = np.asarray(patterns, dtype=np.float64)
    m = patterns.sum(axis=1)
    outer = patterns[:, :, None] * patterns[:, None, :]
    idx = np.arange(patterns.shape[1])
    outer[:, idx, idx] -= patterns
    return outer / (m - 1)[:, None, None]


def _delta(level: str, n_values: int, values: np.ndarray | None) -> np.ndarray:
    if level == "nominal":
        return 1.0 - np.eye(n_values)
    if level == "interval":
        v = np.arange(n_values, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
        return (v[:, None] - v[None, :]) ** 2
    raise ValueError(f"level must be 'nominal' or 'interval'; got {level!r}")


def alpha_from_coincidences(o: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Krippendorff's alpha from a coincidence matrix (V x V) or a stack of them (B x V x V).

    alpha = 1 - (n - 1) * sum(o * delta) / sum(n_c * n_k * delta); NaN when there is no
    expected disagreement (every judgment chose the same value).
    """
    o = np.asarray(o, dtype=np.float64)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = np.einsum("...c,...k,ck->...", n_c, n_c, delta)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1.0 - (n - 1) * observed / expected, np.nan)


def krippendorff_alpha(counts: np.ndarray, level: str = "nominal", values: np.ndarray | None = None) -> float:
    """Krippendorff's alpha from (N x V) counts (same value as `krippendorff.alpha(value_counts=...)`)."""
    patterns, weights = compress_units(counts)
    if len(patterns) == 0:
        return math.nan
    o = np.tensordot(weights.astype(np.float64), coincidences(patterns), axes=1)
    return float(alpha_from_coincidences(o, _delta(level, patterns.shape[1], values)))


def _pair_counts(patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    patterns = np.asarray(patterns, dtype=np.float64)
    agreeing = (patterns * (patterns - 1) / 2).sum(axis=1)
    m = patterns.sum(axis=1)
    return agreeing, m * (m - 1) / 2


def pairwise_agreement(counts: np.ndarray) -> float:
    """Share of pairs of judgments on the same unit that chose the same value, pooled over units."""
    patterns, weights = compress_units(counts)
    agreeing, pairs = _pair_counts(patterns)
    total = float(weights @ pairs) if len(patterns) else 0.0
    return float(weights @ agreeing) / total if total else math.nan


def bootstrap_units(patterns: np.ndarray, weights: np.ndarray,
                    statistic: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
                    n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of `statistic` under resampling units with replacement.

    `statistic(patterns, W)` gets a (B x P) matrix of pattern multiplicities and returns B values.
    Drawing the multiplicities from Multinomial(N, weights / N) is the same distribution as
    drawing N units with replacement and counting patterns.
    """
    n = int(np.sum(weights))
    if n == 0 or n_resamples <= 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, np.asarray(weights, dtype=np.float64) / n, size=n_resamples)
    stats = np.asarray(statistic(patterns, draws), dtype=np.float64)
    if np.all(np.isnan(stats)):
        return math.nan, math.nan
    low, high = np.nanquantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _alpha_stat(level: str, values: np.ndarray | None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def stat(patterns: np.ndarray, w: np.ndarray) -> np.ndarray:
        o = np.tensordot(w.astype(np.float64), coincidences(patterns), axes=1)
        return alpha_from_coincidences(o, _delta(level, patterns.shape[1], values))
    return stat


def _pairwise_stat(patterns: np.ndarray, w: np.ndarray) -> np.ndarray:
    agreeing, pairs = _pair_counts(patterns)
    w = w.astype(np.float64)
    total = w @ pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w @ agreeing) / total, np.nan)


def _figure(value: float, interval: tuple[float, float], n: int) -> dict:
    def clean(x: float) -> float | None:
        return None if x is None or math.isnan(x) else round(float(x), 6)
    return {"value": clean(value), "ci_low": clean(interval[0]), "ci_high": clean(interval[1]), "n": int(n)}


def agreement_summary(counts: np.ndarray, *, weights: np.ndarray | None = None, n_resamples: int = 1000,
                      seed: int = 0, level: float = 0.95, alpha_level: str = "nominal",
                      values: np.ndarray | None = None) -> dict:
    """Raw pairwise agreement and Krippendorff's alpha with bootstrap intervals over units.

    Each figure is {value, ci_low, ci_high, n}; n counts units with at least two judgments.
    `weights` as in compress_units, for counts already tallied by pattern.
    """
    patterns, weights = compress_units(counts, weights)
    n_units = int(weights.sum())
    if n_units == 0:
        empty = _figure(math.nan, (math.nan, math.nan), 0)
        return {"raw_pairwise": dict(empty), "krippendorff_alpha": dict(empty)}
    w = weights[None, :]
    raw = float(_pairwise_stat(patterns, w)[0])
    alpha = float(_alpha_stat(alpha_level, values)(patterns, w)[0])
    kw = {"n_resamples": n_resamples, "seed": seed, "level": level}
    return {
        "raw_pairwise": _figure(raw, bootstrap_units(patterns, weights, _pairwise_stat, **kw), n_units),
        "krippendorff_alpha": _figure(alpha, bootstrap_units(patterns, weights, _alpha_stat(alpha_level, values), **kw),
                                      n_units),
    }


def _binomial_two_sided_p(k: int, n: int, p: float = 0.5) -> float:
    """Two-sided binomial test: the probability of outcomes no more likely than the observed one.

    Exact up to n = 20,000; beyond that the normal approximation agrees to many digits.
    """
    if n == 0:
        return math.nan
    if n > 20_000:
        z = abs(k - n * p) / math.sqrt(n * p * (1 - p))
        return math.erfc(z / math.sqrt(2))
    log_n = math.lgamma(n + 1)
    log_pmf = np.array([log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p)
                        + (n - i) * math.log1p(-p) for i in range(n + 1)])
    return float(min(1.0, np.exp(log_pmf[log_pmf <= log_pmf[k] + 1e-7]).sum()))


def proportion_summary(successes: int, n: int, *, level: float = 0.95) -> dict:
    """A share with its Wilson score interval and a two-sided binomial test against 1/2."""
    if n == 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0, "p_value": None}
    z = _normal_quantile((1 + level) / 2)
    p_hat = successes / n
    centre = (p_hat + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p_hat * (1 - p_hat) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"value": round(p_hat, 6), "ci_low": round(max(0.0, centre - half), 6),
            "ci_high": round(min(1.0, centre + half), 6), "n": int(n),
            "p_value": float(f"{_binomial_two_sided_p(int(successes), int(n)):.6g}")}


def _normal_quantile(q: float) -> float:
    # Acklam-free bisection on erfc: exact enough and dependency-free.
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def position_bias(chose_left: np.ndarray, *, level: float = 0.95) -> dict:
    """Share of preferences for the response shown on the left (judgments with a known order)."""
    chose_left = np.asarray(chose_left, dtype=bool)
    return proportion_summary(int(chose_left.sum()), int(chose_left.size), level=level)


def length_bias(chose_a: np.ndarray, len_a: np.ndarray, len_b: np.ndarray, *, level: float = 0.95) -> dict:
    """Share of preferences for the longer response; pairs of equal length are left out."""
    chose_a = np.asarray(chose_a, dtype=bool)
    len_a = np.asarray(len_a)
    len_b = np.asarray(len_b)
    differ = len_a != len_b
    chose_longer = np.where(len_a > len_b, chose_a, ~chose_a)[differ]
    return proportion_summary(int(chose_longer.sum()), int(chose_longer.size), level=level)
