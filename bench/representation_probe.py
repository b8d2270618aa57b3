"""How much preference signal the base model's frozen features carry on the train bench's pairs.

    .venv/bin/python bench/representation_probe.py            # 1,600 train / 400 test, seed 0 (train_bench's split)

A yardstick for train_bench's held-out accuracy: no fine-tuning, only a logistic regression on the
difference of the two replies' frozen base-model features, each input encoded exactly as rm_training
encodes it (prompt [SEP] reply, cut to --max-length). Three read-outs of the last layer: the [CLS]
token, BERT's pooler over it (what AutoModelForSequenceClassification's head reads), and the mean of
all tokens (how this sentence-embedding model was trained). Also prints the "longer reply wins"
baseline and how many pairs encode to identical inputs (a tie no model can break: they count as wrong).
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

READOUTS = ("cls", "pooler", "mean")


def frozen_features(model, sequences: list[list[int]], pad_id: int, bf16: bool) -> dict:
    """Per token-id sequence, each read-out of its last hidden states (padding left out of the mean),
    batched and padded as the scorer does (rm_training.score)."""
    import contextlib

    import torch

    from rm_training.score import length_batches, padded

    out = {name: torch.zeros(len(sequences), model.config.hidden_size) for name in READOUTS}
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with torch.inference_mode(), autocast:
        for batch in length_batches([len(s) for s in sequences]):
            ids, mask = padded([sequences[i] for i in batch], pad_id)
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask[..., None].to(hidden.dtype)
            out["cls"][batch] = hidden[:, 0].float()
            out["pooler"][batch] = model.pooler(hidden).float()
            out["mean"][batch] = ((hidden * weights).sum(1) / weights.sum(1)).float()
    return {name: value.numpy() for name, value in out.items()}


def main() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegressionCV
    from transformers import AutoModel, AutoTokenizer

    from rm_training.config import TrainConfig, default_base_model
    from rm_training.data import row_to_pair
    from rm_training.device import set_threads, use_bf16
    from rm_training.encoding import INPUT_TEMPLATES, PairEncoder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_split_arguments(parser)
    parser.add_argument("--max-length", type=int, default=TrainConfig().max_length,
                        help="as training cuts the pairs (default: TrainConfig's)")
    parser.add_argument("--input-template", choices=INPUT_TEMPLATES, default=TrainConfig().input_template,
                        help="as training feeds the model (default: TrainConfig's)")
    args = parser.parse_args()
    set_threads(None)
    bf16 = use_bf16("auto")
    started = time.perf_counter()
    train_rows, test_rows = split_rows(Path(args.data), args.train_pairs, args.test_pairs, args.seed)
    train = [row_to_pair(r, f"row {i}")[0] for i, r in enumerate(train_rows)]
    test = [row_to_pair(r, f"row {i}")[0] for i, r in enumerate(test_rows)]
    tokenizer = AutoTokenizer.from_pretrained(default_base_model())
    model = AutoModel.from_pretrained(default_base_model()).eval()
    encoder = PairEncoder(tokenizer, args.max_length, args.input_template)
    train_c, train_r = (frozen_features(model, ids, tokenizer.pad_token_id, bf16) for ids in encoder.encode_pairs(train))
    test_ids = encoder.encode_pairs(test)
    test_c, test_r = (frozen_features(model, ids, tokenizer.pad_token_id, bf16) for ids in test_ids)
    identical = sum(c == r for c, r in zip(*test_ids))
    print(f"{len(train)} train / {len(test)} test pairs, seed {args.seed}, max length {args.max_length}, "
          f"{args.input_template} template, "
          f"{'bf16' if bf16 else 'fp32'}; {identical} test pairs encode to identical inputs")
    for name in READOUTS:
        # Both orders of each training pair, so the read-out is antisymmetric and balanced.
        x = np.concatenate([train_c[name] - train_r[name], train_r[name] - train_c[name]])
        y = np.concatenate([np.ones(len(train)), np.zeros(len(train))])
        probe = LogisticRegressionCV(Cs=10, cv=5, max_iter=3000).fit(x, y)
        accuracy = float((probe.decision_function(test_c[name] - test_r[name]) > 0).mean())
        print(f"linear probe on frozen {name:>6} features: held-out accuracy {accuracy:.4f} (C = {probe.C_[0]:.3g})")
    longer = float(np.mean([len(p.chosen) > len(p.rejected) for p in test]))
    print(f"'longer reply wins' baseline:              held-out accuracy {longer:.4f}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
