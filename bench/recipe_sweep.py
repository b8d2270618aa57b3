"""Recipe sweep: held-out accuracy of recipe variations over many splits of the train bench, in parallel.

    .venv/bin/python bench/recipe_sweep.py --seeds 0-7 --workers 8 --output sweep.jsonl      # on a GPU
    .venv/bin/python bench/recipe_sweep.py --recipes default,lr5e-5 --seeds 0-1 --workers 1  # a CPU can afford this

One run is train_bench.py's protocol (1,600 train / 400 test HH-RLHF pairs, the split drawn by the seed, which
also seeds training) with one recipe: TrainConfig's defaults plus the recipe's overrides, or "plain", TRL's
RewardTrainer with its defaults exactly as train_bench.py runs it. A single run cannot tell recipes apart (400
test pairs: about 0.025 standard error), so each recipe runs on the same several splits and is compared with
the default split by split: the table gives each recipe's accuracy per split, its mean, and the mean paired
difference from the default with its standard error.

Runs go to worker processes (--workers); one MiniLM run leaves most of a GPU idle. With --output each result is
appended as a JSON line as it finishes, and --deadline stops starting runs after so many seconds, so a sweep cut
short keeps what it ran. Runs are ordered split-major (every recipe on split 0, then on split 1, ...), so a
partial sweep still compares recipes on the same splits.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_bench import DEFAULT_DATA, run_plain, split_rows, write_split  # noqa: E402  (sets HF_HUB_OFFLINE, the root path)

from rm_training.config import TrainConfig  # noqa: E402

# TrainConfig overrides; None is plain TRL. Each varies one thing the README's single-split runs left open.
RECIPES: dict[str, dict | None] = {
    "default": {},
    "fp32": {"precision": "fp32"},
    "lr5e-5": {"learning_rate": 5e-5},
    "lr2e-5-3ep": {"learning_rate": 2e-5, "epochs": 3.0},
    "lr2e-4": {"learning_rate": 2e-4},
    "1ep": {"epochs": 1.0},
    "3ep": {"epochs": 3.0},
    "bs32": {"batch_size": 32},
    "bs8-lr5e-5": {"batch_size": 8, "learning_rate": 5e-5},
    "no-warmup": {"warmup_ratio": 0.0},
    "pair-template": {"input_template": "pair"},
    "wd0.1": {"weight_decay": 0.1},
    "plain": None,
}


def run_one(recipe: str, overrides: dict | None, seed: int, data: str, n_train: int, n_test: int,
            threads: int) -> dict:
    """Train and score one recipe on one split, in a temporary folder; return what the table needs."""
    import torch

    torch.set_num_threads(threads)
    train_rows, test_rows = split_rows(Path(data), n_train, n_test, seed)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix=f"sweep-{recipe}-{seed}-") as work:
        if overrides is None:
            args = SimpleNamespace(batch_size=TrainConfig.batch_size, epochs=TrainConfig.epochs, max_steps=None,
                                   seed=seed)
            result = run_plain(args, train_rows, test_rows, Path(work))
            accuracy, tokens_per_s = result["accuracy"], result["tokens_per_s"]
        else:
            accuracy, tokens_per_s = _run_ours(overrides, seed, threads, train_rows, test_rows, Path(work))
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {"recipe": recipe, "seed": seed, "accuracy": accuracy, "tokens_per_s": round(tokens_per_s, 1),
            "seconds": round(time.time() - started, 1), "device": device, "overrides": overrides}


def _run_ours(overrides: dict, seed: int, threads: int, train_rows, test_rows, work: Path):
    from rm_training.train import train

    data = write_split(work / "data", train_rows, test_rows)
    config = TrainConfig(dataset=str(data), output_dir=str(work / "model"), eval_steps=10**9, seed=seed,
                         threads=threads, **overrides)
    record = train(config).record
    return record["eval"]["accuracy"], record["counts"]["train_tokens"] / record["train_metrics"]["train_runtime"]


def parse_seeds(text: str) -> list[int]:
    """"0-7" or "0,2,5"."""
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(s) for s in text.split(",")]


def summary_table(results: list[dict], recipes: list[str], seeds: list[int]) -> str:
    by = {(r["recipe"], r["seed"]): r["accuracy"] for r in results}
    lines = [f"{'recipe':<15}" + "".join(f"{'s' + str(s):>8}" for s in seeds)
             + f"{'mean':>8}{'n':>4}{'vs default (paired)':>24}"]
    for recipe in recipes:
        accs = [by.get((recipe, s)) for s in seeds]
        done = [a for a in accs if a is not None]
        if not done:
            continue
        cells = "".join(f"{a:>8.4f}" if a is not None else f"{'-':>8}" for a in accs)
        lines.append(f"{recipe:<15}{cells}{statistics.mean(done):>8.4f}{len(done):>4}"
                     f"{paired_difference(by, recipe, seeds):>24}")
    return "\n".join(lines)


def paired_difference(by: dict, recipe: str, seeds: list[int]) -> str:
    """Mean of (recipe - default) over the splits both ran, with its standard error."""
    diffs = [by[(recipe, s)] - by[("default", s)] for s in seeds if (recipe, s) in by and ("default", s) in by]
    if recipe == "default" or len(diffs) < 2:
        return ""
    se = statistics.stdev(diffs) / math.sqrt(len(diffs))
    return f"{statistics.mean(diffs):+.4f} ± {se:.4f} (n={len(diffs)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", default=",".join(RECIPES), help=f"comma-separated, of: {', '.join(RECIPES)}")
    parser.add_argument("--seeds", default="0-3", help='splits, "0-7" or "0,2,5"')
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=None, help="start no run after this many seconds")
    parser.add_argument("--output", help="append each run's result to this JSONL file as it finishes")
    parser.add_argument("--table", metavar="JSONL", help="print the table of an earlier --output file; run nothing")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--train-pairs", type=int, default=1600)
    parser.add_argument("--test-pairs", type=int, default=400)
    args = parser.parse_args()
    recipes = args.recipes.split(",")
    unknown = [r for r in recipes if r not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s): {', '.join(unknown)}")
    seeds = parse_seeds(args.seeds)
    if args.table:
        earlier = [json.loads(line) for line in open(args.table)]
        return print(summary_table([r for r in earlier if "accuracy" in r], recipes, seeds))
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    jobs = [(recipe, RECIPES[recipe], seed) for seed in seeds for recipe in recipes]
    started, results = time.time(), []
    context = multiprocessing.get_context("spawn")  # CUDA cannot be used in a forked child
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=context) as pool:
        pending: dict = {}
        while jobs or pending:
            if args.deadline is not None and time.time() - started > args.deadline:
                jobs.clear()  # start nothing more; the runs under way finish
            while jobs and len(pending) < args.workers:
                recipe, overrides, seed = jobs.pop(0)
                future = pool.submit(run_one, recipe, overrides, seed, args.data, args.train_pairs,
                                     args.test_pairs, threads)
                pending[future] = (recipe, seed)
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                recipe, seed = pending.pop(future)
                try:
                    result = future.result()
                    results.append(result)
                except Exception as error:  # one failed run must not lose the sweep: report it and go on
                    result = {"recipe": recipe, "seed": seed, "error": f"{type(error).__name__}: {error}"[-2000:]}
                print(json.dumps(result), flush=True)
                if args.output:
                    with open(args.output, "a") as out:
                        out.write(json.dumps(result) + "\n")
    print(f"\n{len(results)} runs in {time.time() - started:.0f} s, {args.workers} workers\n")
    print(summary_table(results, recipes, seeds))


if __name__ == "__main__":
    main()
