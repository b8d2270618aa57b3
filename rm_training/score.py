"""Score preference pairs with a trained reward model: batched, length-sorted, dynamically padded.

    python -m rm_training.score --model MODEL_DIR --pairs FILE_OR_FOLDER [--output scores.jsonl]

writes one JSON line per input pair, in input order (`reward_chosen`, `reward_rejected`, `p_chosen`), and
prints the summary (accuracy, mean margin, calibration error, the model's provenance) as JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download anything at run time

from . import metrics
from .data import DatasetError, Pair, load_pairs
from .device import set_threads, use_bf16
from .encoding import PairEncoder


class ModelError(ValueError):
    """A model folder that cannot be used as a reward model; the message says why."""


@dataclass
class ScoreResult:
    rows: list[dict]
    summary: dict


def check_reward_model_folder(model_dir: Path) -> dict:
    """Return the folder's config.json if it holds a one-output sequence classifier, else raise ModelError."""
    config_path = model_dir / "config.json"
    if not config_path.is_file():
        raise ModelError(f"{model_dir}: not a model folder (no config.json)")
    config = json.loads(config_path.read_text())
    architectures = config.get("architectures") or []
    labels = config.get("num_labels", len(config.get("id2label") or {}) or 2)
    if not any(a.endswith("ForSequenceClassification") for a in architectures) or labels != 1:
        raise ModelError(f"{model_dir}: not a reward model (architectures {architectures}, {labels} labels; "
                         f"expected a *ForSequenceClassification with one output, as rm_training.train writes)")
    return config


def reward_scores(model, sequences: list[list[int]], *, pad_id: int, batch_size: int = 64,
                  bf16: bool = False) -> list[float]:
    """Return one reward per token-id sequence, in input order.

    Sequences are sorted by length so each batch pads only to its own longest member (little padding
    waste), and run under inference_mode (+ bf16 autocast where the hardware has it).
    """
    import torch

    device = next(model.parameters()).device
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    rewards = [0.0] * len(sequences)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    was_training = model.training
    model.eval()
    with torch.inference_mode(), autocast:
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = len(sequences[batch[-1]])
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, index in enumerate(batch):
                ids = sequences[index]
                input_ids[row, :len(ids)] = torch.tensor(ids)
                attention_mask[row, :len(ids)] = 1
            logits = model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device)).logits
            for index, value in zip(batch, logits[:, 0].float().cpu().tolist()):
                rewards[index] = value
    model.train(was_training)
    return rewards


def score_encoded(model, tokenizer, encoder: PairEncoder, pairs: list[Pair], *, batch_size: int = 64,
                  bf16: bool = False) -> tuple[list[float], list[float]]:
    """Return (chosen rewards, rejected rewards) for the pairs, scoring both sides in one sorted pass."""
    chosen_ids, rejected_ids = encoder.encode_pairs(pairs)
    rewards = reward_scores(model, chosen_ids + rejected_ids, pad_id=tokenizer.pad_token_id,
                            batch_size=batch_size, bf16=bf16)
    return rewards[:len(pairs)], rewards[len(pairs):]


def load_reward_model(model_dir: str | Path, *, device: str | None = None):
    """Load (model, tokenizer, training record) from a folder rm_training.train wrote (or any reward model)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model_dir = Path(model_dir)
    check_reward_model_folder(model_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
    except (OSError, ValueError) as error:
        raise ModelError(f"{model_dir}: cannot load the model ({error})") from None
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    record_path = model_dir / "metrics.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    return model, tokenizer, record


def max_length_for(model, record: dict) -> int:
    trained = (record.get("config") or {}).get("max_length")
    return int(trained or getattr(model.config, "max_position_embeddings", 512))


def score(model_dir: str | Path, pairs: list[Pair], *, batch_size: int = 64, precision: str = "auto",
          threads: int | None = None) -> ScoreResult:
    """Score pairs with the model in `model_dir`; rows come back in input order, plus a summary."""
    set_threads(threads)
    model, tokenizer, record = load_reward_model(model_dir)
    encoder = PairEncoder(tokenizer, max_length_for(model, record))
    chosen, rejected = score_encoded(model, tokenizer, encoder, pairs, batch_size=batch_size,
                                     bf16=use_bf16(precision))
    p = metrics.p_chosen(chosen, rejected)
    rows = [{"index": i, "reward_chosen": c, "reward_rejected": r, "p_chosen": float(pc)}
            for i, (c, r, pc) in enumerate(zip(chosen, rejected, p))]
    summary = metrics.summarize(chosen, rejected)
    summary["truncation"] = encoder.report.as_dict()
    summary["model"] = str(model_dir)
    summary["model_provenance"] = record.get("provenance", {})
    return ScoreResult(rows, summary)


def write_jsonl_atomically(path: Path, rows: list[dict]) -> None:
    """Write rows as JSON lines to a temporary sibling, then rename: no half-written output file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    os.replace(handle.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rm_training.score", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder written by rm_training.train")
    parser.add_argument("--pairs", required=True, help="a JSONL/Parquet file or dataset folder of pairs")
    parser.add_argument("--split", choices=["test", "train", "all"], default="all",
                        help="which split of a dataset folder to score (default: all, train then test)")
    parser.add_argument("--output", help="write one JSON line per pair here (default: stdout)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    args = parser.parse_args(argv)
    try:
        loaded = load_pairs(args.pairs)
        pairs = {"train": loaded.train, "test": loaded.test, "all": loaded.train + loaded.test}[args.split]
        if not pairs:
            raise DatasetError(f"{args.pairs}: the {args.split} split is empty")
        result = score(args.model, pairs, batch_size=args.batch_size, precision=args.precision)
    except (DatasetError, ModelError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.output:
        write_jsonl_atomically(Path(args.output), result.rows)
    else:
        for row in result.rows:
            print(json.dumps(row))
    print(json.dumps({"summary": result.summary}, indent=2), file=sys.stderr if not args.output else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
