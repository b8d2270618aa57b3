"""Scoring benchmark: rm_training.score against a naive one-pair-at-a-time loop, same model, same pairs.

    .venv/bin/python bench/score_bench.py                  # 400 HH-RLHF test pairs (the train bench's split)
    .venv/bin/python bench/score_bench.py --pairs 40       # quick check

The model is MiniLM with a fresh one-output head saved as a reward-model folder (speed does not depend on
what the head learned). Three runs, each timed with its model load:
  "naive": for each pair, encode chosen and rejected (same encoder, same max length) and run them as one
           padded batch of two, fp32, under torch.no_grad.
  "ours fp32": score() with its defaults: all sequences sorted by length, batches within a token budget
           (rows x longest <= DEFAULT_BATCH_TOKENS; in bf16 the width rounded up to a multiple of 32),
           inference_mode, bf16 autocast only where the CPU has it.
  "ours int8": score(quantize="int8"): the same with the Linear layers quantized to int8 (opt-in).
Prints pairs/s, the speed-up over naive, the largest reward difference from naive, and for int8 the
share of pairs whose preferred side matches ours fp32. Then forward-pass throughput by batch shape
(tokens/s at batch 1 and larger batches, 256 and 512 tokens), which shows how much batching can give.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from train_bench import DEFAULT_DATA, split_rows  # noqa: E402

SHAPES = [(1, 256), (2, 256), (16, 256), (1, 512), (2, 512), (16, 512)]


def make_reward_model_folder(folder: Path) -> None:
    from transformers import AutoTokenizer

    from rm_training.config import default_base_model
    from rm_training.device import load_classifier

    load_classifier(default_base_model()).save_pretrained(folder)
    AutoTokenizer.from_pretrained(default_base_model()).save_pretrained(folder)


def naive_scores(folder: Path, pairs) -> tuple[list[tuple[float, float]], int]:
    import torch

    from rm_training.score import encoder_for, load_reward_model

    model, tokenizer, record = load_reward_model(folder)
    encoder = encoder_for(model, tokenizer, record)  # the scorer's own choice: same inputs on both sides
    out = []
    with torch.no_grad():
        for pair in pairs:
            chosen, rejected = encoder.encode_pairs([pair])
            batch = tokenizer.pad({"input_ids": [chosen[0], rejected[0]]}, return_tensors="pt")
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, 0]
            out.append((logits[0].item(), logits[1].item()))
    return out, encoder.max_length


def timed(run):
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def largest_difference(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return max(abs(x - y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def same_side(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return sum((ca > ra) == (cb > rb) for (ca, ra), (cb, rb) in zip(a, b)) / len(a)


def shape_throughput(folder: Path) -> list[tuple[int, int, float]]:
    """Forward passes of random tokens, fp32, no padding: (rows, length, tokens/s) per shape."""
    import torch

    from rm_training.score import load_reward_model

    model, _, _ = load_reward_model(folder)
    out = []
    with torch.inference_mode():
        for rows, length in SHAPES:
            ids = torch.randint(1000, 20000, (rows, length))
            model(input_ids=ids)  # warm-up
            repeats = max(2, 8192 // (rows * length))
            _, seconds = timed(lambda: [model(input_ids=ids) for _ in range(repeats)])
            out.append((rows, length, repeats * rows * length / seconds))
    return out


def main() -> None:
    from rm_training.data import row_to_pair
    from rm_training.device import set_threads, use_bf16
    from rm_training.score import DEFAULT_BATCH_TOKENS, score

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 run")
    parser.add_argument("--batch-tokens", type=int, nargs="+", default=[DEFAULT_BATCH_TOKENS],
                        help="padded-token budgets to time the default path with (several: a sweep)")
    args = parser.parse_args()
    threads = set_threads(None)
    _, test_rows = split_rows(Path(args.data), 1600, args.pairs, args.seed)
    pairs = [row_to_pair(r, f"row {i}")[0] for i, r in enumerate(test_rows)]
    pairs_of = lambda result: [(r["reward_chosen"], r["reward_rejected"]) for r in result.rows]  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="score-bench-") as folder:
        make_reward_model_folder(Path(folder))
        (naive, max_length), naive_seconds = timed(lambda: naive_scores(Path(folder), pairs))
        # max length: the model's 512 (the folder has no training record)
        budgets = [(budget, *timed(lambda: score(folder, pairs, precision="auto", batch_tokens=budget)))
                   for budget in args.batch_tokens]
        _, ours, ours_seconds = budgets[0]
        int8, int8_seconds = (None, None) if args.no_int8 else timed(lambda: score(folder, pairs, quantize="int8"))
        shapes = shape_throughput(Path(folder))

    print(f"pairs: {len(pairs)}   max length: {max_length}   threads: {threads}   bf16 autocast: "
          f"{use_bf16('auto')}   token budget: {args.batch_tokens[0]}   (timings include loading the model)")
    print(f"{'':28}{'pairs/s':>9}{'seconds':>9}{'speed-up':>10}{'max |reward - naive|':>22}")
    print(f"{'naive, one pair at a time':28}{len(pairs) / naive_seconds:9.2f}{naive_seconds:9.1f}{1:10.2f}{0:22.4f}")
    rows = [(f"rm_training.score ({budget})" if len(budgets) > 1 else "rm_training.score (default)",
             pairs_of(result), seconds) for budget, result, seconds in budgets]
    if int8 is not None:
        rows.append(("rm_training.score int8", pairs_of(int8), int8_seconds))
    for name, scores, seconds in rows:
        print(f"{name:28}{len(pairs) / seconds:9.2f}{seconds:9.1f}{naive_seconds / seconds:10.2f}"
              f"{largest_difference(scores, naive):22.4f}")
    if int8 is not None:
        print(f"int8 against ours fp32: same preferred side on {same_side(pairs_of(int8), pairs_of(ours)):.3f} "
              f"of pairs, largest reward difference {largest_difference(pairs_of(int8), pairs_of(ours)):.4f}, "
              f"reward spread (fp32) {spread(pairs_of(ours)):.4f}")
    print("\nforward pass, fp32, no padding: tokens/s by batch shape")
    for rows_, length, per_second in shapes:
        print(f"  {rows_:3d} x {length:3d} tokens: {per_second:8.0f} tokens/s")


def spread(scores: list[tuple[float, float]]) -> float:
    values = [v for pair in scores for v in pair]
    return max(values) - min(values)


if __name__ == "__main__":
    main()
