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
  database with a server-side cursor) there.

The `source only` line is the cost of producing the records alone: the exporter's own cost is
the difference. Prints one line per case and, with --json, the figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
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
    from exporters import ComparisonRecord, JudgmentRecord

    rng = random.Random(seed)
    base = " ".join(rng.choice(WORDS) for _ in range(400_000))  # ~2.6 MB of text to slice from
    n_comparisons = n_judgments // k
    raters = [f"r{i:04d}" for i in range(300)]
    shas = {1: "a" * 64, 2: "b" * 64}

    def text(r: random.Random, mean: int) -> str:
        length = max(20, int(r.lognormvariate(0, 0.5) * mean))
        start = r.randrange(0, len(base) - length)
        return base[start:start + length]

    def groups():
        r = random.Random(seed + 1)
        jid = 0
        for cid in range(1, n_comparisons + 1):
            comparison = ComparisonRecord(
                comparison_id=cid, prompt_id=(cid + 1) // 2, prompt_messages=[{"role": "user", "content": text(r, 400)}],
                response_a=text(r, 1200), response_b=text(r, 1200), model_a="model-x", model_b="model-y",
                gold="", is_quiz=False, source="synthetic", round=1)
            truth = "a" if r.random() < 0.5 else "b"
            judgments = []
            for rater in r.sample(raters, k):
                u = r.random()
                choice = truth if u < 0.7 else ("b" if truth == "a" else "a") if u < 0.93 else \
                    "tie" if u < 0.98 else "both_bad"
                jid += 1
                version = 1 if cid < n_comparisons // 2 else 2
                judgments.append(JudgmentRecord(
                    judgment_id=jid, comparison_id=cid, rater=rater, origin="here", guideline_version=version,
                    guideline_sha256=shas[version], choice=choice,
                    strength=r.randint(1, 3) if choice in ("a", "b") else None,
                    display_order="AB" if r.random() < 0.5 else "BA", active_ms=r.randint(2000, 60000),
                    served_at="2026-01-01T00:00:00Z", submitted_at="2026-01-01T00:01:00Z", flags=(), round=1))
            yield comparison, judgments

    return groups, n_comparisons * k, f"synthetic, {n_comparisons} comparisons x {k}"


SOURCES = {"synthetic": synthetic_source}


def run_case(case: dict) -> dict:
    """In the child: export once, return the figures."""
    from exporters import ExportRequest, write_export

    groups, total, described = SOURCES[case["source"]](case["judgments"], case["k"], case["seed"])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
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
    return {**case, "source_description": described, "judgments_read": n, "rows": rows, "seconds": round(seconds, 2),
            "judgments_per_s": round(n / seconds), "peak_rss_mb": round(resource.getrusage(
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
          f"{'peak RSS MB':>12} {'rows':>9} {'output MB':>10}", flush=True)
    for case in cases:
        child = subprocess.run([sys.executable, __file__, "--one", json.dumps(case)], capture_output=True,
                               text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        if child.returncode != 0:
            print(f"case {case} failed:\n{child.stderr[-3000:]}", file=sys.stderr)
            return 1
        r = json.loads(child.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"{r['judgments']:>10} {r['format']:<19} {r['aggregate']:<12} {r['file_format']:<8} "
              f"{r['judgments_per_s']:>12,} {r['seconds']:>8} {r['peak_rss_mb']:>12} {r['rows']:>9} "
              f"{r['output_mb'] if r['output_mb'] is not None else '':>10}", flush=True)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
