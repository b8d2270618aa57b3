"""How much preference signal the base model's frozen features carry on the train bench's pairs.

    .venv/bin/python bench/representation_probe.py            # 1,600 train / 400 test, seed 0 (train_bench's split)

A yardstick for train_bench's held-out accuracy: no fine-tuning, only a logistic regression on the
difference of the two replies' mean-pooled base-model embeddings (each input encoded exactly as
rm_training encodes it: prompt [SEP] reply, cut to --max-length). Also prints the "longer reply wins"
baseline. If a linear read-out of the frozen features cannot beat chance on these 1,600 pairs, a
few hundred fine-tuning steps of the same model have little to start from.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_bench import add_split_arguments, split_rows  # noqa: E402


def mean_pooled(model, sequences: list[list[int]], pad_id: int):
    """One embedding per token-id sequence: the mean of its last hidden states (padding left out),
    batched and padded as the scorer does (rm_training.score)."""
    import torch

    from rm_training.score import length_batches, padded

    out = torch.zeros(len(sequences), model.config.hidden_size)
    with torch.inference_mode():
        for batch in length_batches([len(s) for s in sequences]):
            ids, mask = padded([sequences[i] for i in batch], pad_id)
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask[..., None].float()
            out[batch] = (hidden * weights).sum(1) / weights.sum(1)
    return out.numpy()


def features(model, tokenizer, encoder, pairs):
    chosen, rejected = encoder.encode_pairs(pairs)
    return (mean_pooled(model, chosen, tokenizer.pad_token_id),
            mean_pooled(model, rejected, tokenizer.pad_token_id))


def main() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegressionCV
    from transformers import AutoModel, AutoTokenizer

    from rm_training.config import default_base_model
    from rm_training.data import row_to_pair
    from rm_training.device import set_threads
    from rm_training.encoding import PairEncoder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_split_arguments(parser)
    parser.add_argument("--max-length", type=int, default=256)
    args = parser.parse_args()
    set_threads(None)
    started = time.perf_counter()
    train_rows, test_rows = split_rows(Path(args.data), args.train_pairs, args.test_pairs, args.seed)
    train = [row_to_pair(r, f"row {i}")[0] for i, r in enumerate(train_rows)]
    test = [row_to_pair(r, f"row {i}")[0] for i, r in enumerate(test_rows)]
    tokenizer = AutoTokenizer.from_pretrained(default_base_model())
    model = AutoModel.from_pretrained(default_base_model()).eval()
    encoder = PairEncoder(tokenizer, args.max_length)
    (train_c, train_r), (test_c, test_r) = features(model, tokenizer, encoder, train), \
        features(model, tokenizer, encoder, test)
    # Both orders of each training pair, so the read-out is antisymmetric and balanced.
    x = np.concatenate([train_c - train_r, train_r - train_c])
    y = np.concatenate([np.ones(len(train)), np.zeros(len(train))])
    probe = LogisticRegressionCV(Cs=10, cv=5, max_iter=2000).fit(x, y)
    accuracy = float((probe.decision_function(test_c - test_r) > 0).mean())
    longer = float(np.mean([len(p.chosen) > len(p.rejected) for p in test]))
    print(f"{len(train)} train / {len(test)} test pairs, seed {args.seed}, max length {args.max_length}")
    print(f"linear probe on frozen mean-pooled features: held-out accuracy {accuracy:.4f} (C = {probe.C_[0]:.3g})")
    print(f"'longer reply wins' baseline:                held-out accuracy {longer:.4f}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
