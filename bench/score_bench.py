"""Scoring benchmark: rm_training.score against a naive one-pair-at-a-time loop, same model, same pairs.

    .venv/bin/python bench/score_bench.py                  # 400 HH-RLHF test pairs (the train bench's split)
    .venv/bin/python bench/score_bench.py --pairs 40       # quick check

The model is MiniLM with a fresh one-output head saved as a reward-model folder (speed does not depend on
what the head learned). "naive": for each pair, encode chosen and rejected (same encoder, same max length)
and run them as one padded batch of two, fp32, under torch.no_grad. "ours": score() — all sequences sorted
by length, batches of 64 padded to their own longest, inference_mode, bf16 autocast where the CPU has it.
Also prints the largest difference between the two runs' rewards (bf16 rounding when it is on).
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


def make_reward_model_folder(folder: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from rm_training.config import default_base_model

    AutoModelForSequenceClassification.from_pretrained(default_base_model(), num_labels=1).save_pretrained(folder)
    AutoTokenizer.from_pretrained(default_base_model()).save_pretrained(folder)


def naive_scores(folder: Path, pairs, max_length: int) -> list[tuple[float, float]]:
    import torch

    from rm_training.encoding import PairEncoder
    from rm_training.score import load_reward_model

    model, tokenizer, _ = load_reward_model(folder)
    encoder = PairEncoder(tokenizer, max_length)
    out = []
    with torch.no_grad():
        for pair in pairs:
            chosen, rejected = encoder.encode_pairs([pair])
            batch = tokenizer.pad({"input_ids": [chosen[0], rejected[0]]}, return_tensors="pt")
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, 0]
            out.append((logits[0].item(), logits[1].item()))
    return out


def main() -> None:
    from rm_training.data import row_to_pair
    from rm_training.device import set_threads, use_bf16
    from rm_training.score import score

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=512)
    args = parser.parse_args()
    set_threads(None)
    _, test_rows = split_rows(Path(args.data), 1600, args.pairs, args.seed)
    pairs = [row_to_pair(r, f"row {i}")[0] for i, r in enumerate(test_rows)]
    with tempfile.TemporaryDirectory(prefix="score-bench-") as folder:
        make_reward_model_folder(Path(folder))
        started = time.perf_counter()
        naive = naive_scores(Path(folder), pairs, args.max_length)
        naive_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ours = score(folder, pairs, precision="auto")  # max length: the model's 512 (no training record)
        ours_seconds = time.perf_counter() - started
    diff = max(max(abs(a - r["reward_chosen"]), abs(b - r["reward_rejected"])) for (a, b), r in zip(naive, ours.rows))
    print(f"pairs: {len(pairs)}   bf16: {use_bf16('auto')}   max length: {args.max_length}")
    print(f"naive one pair at a time: {len(pairs) / naive_seconds:8.2f} pairs/s ({naive_seconds:.1f} s)")
    print(f"rm_training.score:        {len(pairs) / ours_seconds:8.2f} pairs/s ({ours_seconds:.1f} s)"
          " (includes loading the model)")
    print(f"speed-up: {naive_seconds / ours_seconds:.2f}x   largest reward difference: {diff:.4f}")


if __name__ == "__main__":
    main()
