"""Export throughput and peak memory: judgments/s and peak RSS per format, aggregation and file format.

    .venv/bin/python bench/export_bench.py                         # 100k and 1M judgments, k = 3
    .venv/bin/python bench/export_bench.py --sizes 100000 --formats trl-standard,raw --file-formats parquet,jsonl

Each case runs in its own child process (so its peak RSS is its own) and calls
`exporters.write_export` on a record source, exactly as the webapp's export job does. Sources:

- `synthetic` (default): comparisons and judgments generated on the fly from a seed (k judgments
  per comparison, realistic text lengths: prompts ~400 characters, responses ~1,200), never held
  in memory all at once, so the figures are the exporter's.
- more sources register in SOURCES: a function (n_judgments, k, seed) -> (groups callable,
  total judgments, description). The webapp side adds `postgres` (the selector over a filled
  database, read by one streamed query) there.

The machine is often shared: besides wall-clock judgments/s each line prints judgments per CPU
second of the exporting process and the 1-minute load average when the case started.

The `source only` line is the cost of producing the records alone: the exporter's own cost is
the difference. Prints one line per case and, with --json, the figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_JUDGMENTS_PER_S = 100_000
TARGET_PEAK_RSS_MB = 500
WORDS = ("the model answer response because however which would could should rather their there about "
         "explain example python function return value error string number list first second third "
         "question answer helpful harmless honest policy reward preference people think true false").split()


def synthetic_source(n_judgments: int, k: int, seed: int):
    """Records made on the fly in blocks with numpy, so the source costs little next to the exporter."""
    import numpy as np

    from exporters import ComparisonRecord, JudgmentRecord

    rng = random.Random(seed)
    base = " ".join(rng.choice(WORDS) for _ in range(400_000))  # ~2.6 MB of text to slice from
    n_comparisons = n_judgments // k
    raters = [f"r{i:04d}" for i in range(300)]
    shas = {1: "a" * 64, 2: "b" * 64}
    labels = np.array(["a", "b", "tie", "both_bad"], dtype=object)
    block = 4096

    def groups():
        g = np.random.default_rng(seed + 1)
        jid = 0
        for first in range(1, n_comparisons + 1, block):
            n = min(block, n_comparisons + 1 - first)
            lengths = (np.exp(g.normal(0, 0.5, (n, 3))) * [400, 1200, 1200]).astype(int).clip(20, 20_000)
            starts = g.integers(0, len(base) - 20_001, (n, 3))
            truth = g.integers(0, 2, n)
            u = g.random((n, k))
            choice = np.where(u < 0.7, truth[:, None], np.where(u < 0.93, 1 - truth[:, None],
                                                                 np.where(u < 0.98, 2, 3)))
            who = np.argsort(g.random((n, len(raters))), axis=1)[:, :k]
            strength = g.integers(1, 4, (n, k))
            order_ab = g.random((n, k)) < 0.5
            active = g.integers(2000, 60000, (n, k))
            for i in range(n):
                cid = first + i
                (lp, la, lb), (sp, sa, sb) = lengths[i].tolist(), starts[i].tolist()
                comparison = ComparisonRecord(
                    cid, (cid + 1) // 2, [{"role": "user", "content": base[sp:sp + lp]}], base[sa:sa + la],
                    base[sb:sb + lb], "model-x", "model-y", "", False, "synthetic", 1)
                version = 1 if cid < n_comparisons // 2 else 2
                judgments = []
                for c, w, s, o, ms in zip(choice[i].tolist(), who[i].tolist(), strength[i].tolist(),
                                          order_ab[i].tolist(), active[i].tolist()):
                    jid += 1
                    judgments.append(JudgmentRecord(
                        jid, cid, raters[w], "here", version, shas[version], labels[c], s if c < 2 else None,
                        "AB" if o else "BA", ms, "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", (), 1))
                yield comparison, judgments

    return groups, n_comparisons * k, f"synthetic, {n_comparisons} comparisons x {k}"


def postgres_source(n_judgments: int, k: int, seed: int):
    """The webapp's selector over a filled PostgreSQL database (bench/export_source_postgres.py)."""
    from export_source_postgres import postgres_source as source

    return source(n_judgments, k, seed)


SOURCES = {"synthetic": synthetic_source, "postgres": postgres_source}


def run_case(case: dict) -> dict:
    """In the child: export once, return the figures."""
    from exporters import ExportRequest, write_export

    groups, total, described = SOURCES[case["source"]](case["judgments"], case["k"], case["seed"])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    if case["format"] == "source-only":
        n = sum(len(j) for _, j in groups())
        rows = 0
    else:
        request = ExportRequest(format=case["format"], aggregate=case["aggregate"], ties=case["ties"],
                                file_format=case["file_format"], scale="seven_point", test_fraction=0.1, seed=0)
        with tempfile.TemporaryDirectory(dir=case["tmp"]) as tmp:
            manifest = write_export(groups, request, Path(tmp) / "out", total_judgments=total)
            n = manifest["counts"]["judgments_read"]
            rows = manifest["counts"]["rows_written"]
            size = sum(f["bytes"] for f in manifest["files"].values())
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return {**case, "source_description": described, "judgments_read": n, "rows": rows, "seconds": round(seconds, 2),
            "judgments_per_s": round(n / seconds),
            "judgments_per_cpu_s": round(n / cpu), "load_avg_1m": round(load, 1), "peak_rss_mb": round(resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss / 1024), "rss_after_imports_mb": round(rss_before),
            "output_mb": round(size / 1e6, 1) if case["format"] != "source-only" else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", choices=sorted(SOURCES), default="synthetic")
    parser.add_argument("--sizes", default="100000,1000000", help="judgments per run, comma-separated")
    parser.add_argument("--k", type=int, default=3, help="judgments per comparison")
    parser.add_argument("--formats", default="trl-standard,trl-conversational,trl-implicit,raw")
    parser.add_argument("--aggregates", default="none,majority,dawid-skene")
    parser.add_argument("--file-formats", default="parquet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tmp", default=None, help="where the exports are written (deleted after each case)")
    parser.add_argument("--json", action="store_true", help="print all figures as JSON at the end")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case (JSON) in this process
    args = parser.parse_args()
    if args.one:
        # SIGTERM becomes SystemExit, so write_export removes its partial folder on the way out
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        print(json.dumps(run_case(json.loads(args.one))))
        return 0

    cases = []
    for size in [int(s) for s in args.sizes.split(",")]:
        base = {"source": args.source, "judgments": size, "k": args.k, "seed": args.seed, "tmp": args.tmp,
                "ties": "drop"}
        cases.append({**base, "format": "source-only", "aggregate": "-", "file_format": "-"})
        for fmt in args.formats.split(","):
            for aggregate in args.aggregates.split(","):
                if fmt == "raw" and aggregate != "none":
                    continue
                for file_format in args.file_formats.split(","):
                    cases.append({**base, "format": fmt, "aggregate": aggregate, "file_format": file_format,
                                  "ties": "keep" if fmt == "raw" else "drop"})
    results = []
    print(f"{'judgments':>10} {'format':<19} {'aggregate':<12} {'file':<8} {'judgments/s':>12} {'seconds':>8} "
          f"{'per CPU-s':>10} {'peak RSS MB':>12} {'rows':>9} {'output MB':>10} {'load':>5}", flush=True)
    for case in cases:
        child = subprocess.run([sys.executable, __file__, "--one", json.dumps(case)], capture_output=True,
                               text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        if child.returncode != 0:
            print(f"case {case} failed:\n{child.stderr[-3000:]}", file=sys.stderr)
            return 1
        r = json.loads(child.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"{r['judgments']:>10} {r['format']:<19} {r['aggregate']:<12} {r['file_format']:<8} "
              f"{r['judgments_per_s']:>12,} {r['seconds']:>8} {r['judgments_per_cpu_s']:>10,} {r['peak_rss_mb']:>12} "
              f"{r['rows']:>9} {r['output_mb'] if r['output_mb'] is not None else '':>10} {r['load_avg_1m']:>5}",
              flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
