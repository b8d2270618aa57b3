"""All rater-data diagnostics, with 1,000-sample bootstrap intervals, on N judgments (k per comparison).

    .venv/bin/python bench/diagnostics_bench.py                      # 1,000,000 judgments, k = 3
    .venv/bin/python bench/diagnostics_bench.py --judgments 100000 --no-dawid-skene

Builds synthetic arrays in memory the way prefkit.diagnostics gets them from the webapp's read
(comparisons x k raters drawn from a pool, choices from raters of varying accuracy with a little
position bias, ties, strengths, display orders, times on task, 5 % gold, 2 % sycophancy probes in
two suites, 5 % of the judgments re-served for consistency), then times `prefkit.diagnostics.rater_diagnostics` (agreement, Fleiss, Cohen per rater
pair, leave-one-out majority, Dawid–Skene, gold accuracy, time on task, position and length bias,
intra-rater consistency, sycophancy) plus the per-guideline-version breakdown (two versions).
Prints wall time, CPU time and peak RSS (ru_maxrss of this process, which includes the arrays).
Targets (issue 12): 1M judgments in < 60 s and < 2 GB.
"""
import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefkit import diagnostics as dg  # noqa: E402


def synthetic_repeats(data: dg.RaterData, version: np.ndarray, share: float, seed: int) -> dg.RepeatPairs:
    """Consistency re-serves of `share` of the judgments, each answered the same way 80 % of the time."""
    rng = np.random.default_rng(seed + 1)
    again = np.flatnonzero(rng.random(len(data.unit)) < share)
    second = np.where(rng.random(len(again)) < 0.8, data.choice[again], rng.integers(0, 3, len(again)))
    return dg.RepeatPairs(unit=data.unit[again], rater=data.rater[again], first=data.choice[again], second=second,
                          first_version=version[again], second_version=version[again])


def synthetic(n_judgments: int, k: int, n_raters: int, seed: int) -> tuple[dg.RaterData, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_units = n_judgments // k
    unit = np.repeat(np.arange(n_units), k)
    # k distinct raters per comparison: a random offset and k consecutive pool members.
    rater = (rng.integers(0, n_raters, n_units)[:, None] + np.arange(k)[None, :]).ravel() % n_raters
    accuracy = rng.uniform(0.55, 0.95, n_raters)
    truth = rng.integers(0, 2, n_units)
    right = rng.random(len(unit)) < accuracy[rater]
    choice = np.where(right, truth[unit], 1 - truth[unit])
    choice[rng.random(len(unit)) < 0.08] = dg.TIE
    left_is_a = rng.integers(0, 2, len(unit))
    reflex = rng.random(len(unit)) < 0.05
    choice[reflex] = np.where(left_is_a[reflex] == 1, dg.A, dg.B)
    gold = np.where(rng.random(n_units) < 0.05, truth, -1)
    probe = rng.random(n_units) < 0.02
    syc_side = np.where(probe, rng.integers(0, 2, n_units), -1)
    syc_suite = np.where(probe, rng.integers(0, 2, n_units), -1)
    data = dg.RaterData(
        unit=unit, rater=rater, choice=choice, strength=rng.integers(1, 5, len(unit)).astype(np.float64),
        left_is_a=left_is_a, active_ms=rng.lognormal(np.log(8000), 0.6, len(unit)),
        len_a=rng.integers(20, 3000, n_units), len_b=rng.integers(20, 3000, n_units), gold=gold,
        syc_side=syc_side, syc_suite=syc_suite, rater_names=[f"r{i:04d}" for i in range(n_raters)],
        suite_names=["opinion", "answer"])
    version = np.where(unit < n_units // 2, 1, 2)
    return data, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--raters", type=int, default=200)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-dawid-skene", action="store_true")
    args = parser.parse_args()

    data, version = synthetic(args.judgments, args.k, args.raters, args.seed)
    repeats = synthetic_repeats(data, version, 0.05, args.seed)
    print(f"{len(data.unit):,} judgments on {data.n_units:,} comparisons (k = {args.k}) by {args.raters} raters; "
          f"{args.resamples} bootstrap resamples", flush=True)
    marks = []
    t0, c0 = time.perf_counter(), time.process_time()

    def step(message: str) -> None:
        marks.append((message, time.perf_counter() - t0, time.process_time() - c0))

    report = dg.rater_diagnostics(data, repeats=repeats, n_resamples=args.resamples, seed=args.seed,
                                  dawid_skene=not args.no_dawid_skene, progress=step)
    step("by guideline version")
    for v in (1, 2):
        part = data.subset(version == v)
        dg.agreement_block(part, n_resamples=args.resamples, seed=args.seed)
        dg.position_bias(part.unit, part.rater, part.choice, part.left_is_a, part.n_raters,
                         n_resamples=args.resamples, seed=args.seed)
        dg.length_bias(part.unit, part.rater, part.choice, part.len_a, part.len_b, part.n_raters,
                       n_resamples=args.resamples, seed=args.seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for (message, at, cpu_at), (_, nxt, cpu_nxt) in zip(marks, marks[1:] + [("end", wall, cpu)]):
        print(f"  {message:<24} wall {nxt - at:6.1f} s   CPU {cpu_nxt - cpu_at:6.1f} s")
    a = report["agreement"]
    print(f"alpha nominal {a['krippendorff_alpha_nominal']['value']:.4f} "
          f"[{a['krippendorff_alpha_nominal']['ci_low']:.4f}, {a['krippendorff_alpha_nominal']['ci_high']:.4f}], "
          f"Fleiss {a['fleiss_kappa']['value']:.4f}, raw {a['raw_pairwise']['value']:.4f}, "
          f"p_left {report['position_bias']['overall_p_left']['value']:.4f}, "
          f"{len(report['cohen_kappa'])} rater pairs with Cohen's kappa")
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak_mb:,.0f} MB, load {os.getloadavg()[0]:.1f} "
          f"(targets: < 60 s, < 2,048 MB)")


if __name__ == "__main__":
    main()
