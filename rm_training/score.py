"""Score preference pairs with a trained reward model: batched, length-sorted, dynamically padded.

    python -m rm_training.score --model MODEL_DIR --pairs FILE_OR_FOLDER [--output scores.jsonl] [--quantize int8]

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
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download anything at run time

from . import metrics
from .data import DatasetError, Pair, load_pairs
from .device import cuda_available, keep_head_in_fp32, load_classifier, set_threads, use_bf16
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


DEFAULT_BATCH_TOKENS = 2048
"""Padded tokens per batch (rows × the batch's longest sequence); measured best on a 2-core AVX2 CPU,
see the README (Performance)."""
BF16_WIDTH_MULTIPLE = 32
"""In bf16, batches are padded to a multiple of this many tokens. oneDNN builds a kernel for each input
shape it meets (AMX on a Xeon), and with a width per batch it built one per batch: on the 2-core Xeon
host, scoring 400 HH-RLHF pairs took 6-9 % less time (seven of eight back-to-back pairs of runs). In
fp32 the same padding cost 5-10 % (no kernels to build, only more tokens), so fp32 batches pad to their
longest."""
QUANTIZE_CHOICES = ("int8",)


def length_batches(lengths: list[int], *, batch_tokens: int = DEFAULT_BATCH_TOKENS,
                   batch_size: int = 64, width_multiple: int = 1) -> list[list[int]]:
    """Group sequence indices, shortest first, into batches of at most `batch_size` rows whose padded size
    (rows × padded width) stays within `batch_tokens`; a sequence longer than the budget runs alone.
    The padded width is the batch's longest length rounded up as `padded_width` does.

    A token budget rather than a fixed row count: 64 rows of 512 tokens build attention scores of
    64 × 12 heads × 512 × 512 floats (800 MB), far beyond the caches, while 64 short rows are cheap.
    """
    longest = max(lengths, default=0)
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:  # ascending, so the newcomer sets the batch's padded width
        width = padded_width(lengths[index], width_multiple, longest)
        if current and (len(current) == batch_size or (len(current) + 1) * width > batch_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def padded_width(length: int, multiple: int, longest: int) -> int:
    """`length` rounded up to a multiple of `multiple`, but never past `longest` (the longest input of the
    run, which the model is known to take: a model has only so many positions)."""
    return max(length, min(-(-length // multiple) * multiple, longest))


def reward_scores(model, sequences: list[list[int]], *, pad_id: int, batch_size: int = 64,
                  batch_tokens: int = DEFAULT_BATCH_TOKENS, bf16: bool = False,
                  width_multiple: int | None = None) -> list[float]:
    """Return one reward per token-id sequence, in input order.

    Sequences are sorted by length and batched by `length_batches`, so each batch pads only to its own
    longest member (rounded up to `width_multiple`; default BF16_WIDTH_MULTIPLE in bf16, 1 in fp32), and
    run under inference_mode (+ bf16 autocast where the hardware has it, with the reward head kept in
    fp32 so that close rewards are not rounded into ties).
    """
    import torch

    device = next(model.parameters()).device  # embeddings stay float parameters under int8 quantization
    multiple = width_multiple or (BF16_WIDTH_MULTIPLE if bf16 else 1)
    lengths = [len(s) for s in sequences]
    longest = max(lengths, default=0)
    rewards = [0.0] * len(sequences)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    if bf16:
        keep_head_in_fp32(model)  # once per model: it marks what it changed
    was_training = model.training
    model.eval()
    with torch.inference_mode(), autocast:
        for batch in length_batches(lengths, batch_tokens=batch_tokens, batch_size=batch_size,
                                    width_multiple=multiple):
            width = padded_width(max(lengths[i] for i in batch), multiple, longest)
            input_ids, attention_mask = padded([sequences[i] for i in batch], pad_id, width)
            logits = model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device)).logits
            for index, value in zip(batch, logits[:, 0].float().cpu().tolist()):
                rewards[index] = value
    model.train(was_training)
    return rewards


def padded(rows: list[list[int]], pad_id: int, width: int | None = None):
    """Return (input_ids, attention_mask) tensors for rows, right-padded to `width` (default: the longest)."""
    import torch

    width = width or max(len(ids) for ids in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, ids in enumerate(rows):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        attention_mask[row, :len(ids)] = 1
    return input_ids, attention_mask


def score_encoded(model, tokenizer, encoder: PairEncoder, pairs: list[Pair], *, batch_size: int = 64,
                  batch_tokens: int = DEFAULT_BATCH_TOKENS, bf16: bool = False) -> tuple[list[float], list[float]]:
    """Return (chosen rewards, rejected rewards) for the pairs, scoring both sides in one sorted pass."""
    chosen_ids, rejected_ids = encoder.encode_pairs(pairs)
    rewards = reward_scores(model, chosen_ids + rejected_ids, pad_id=tokenizer.pad_token_id,
                            batch_size=batch_size, batch_tokens=batch_tokens, bf16=bf16)
    return rewards[:len(pairs)], rewards[len(pairs):]


def quantize_int8(model):
    """Make `model`'s Linear layers int8 in place (weights quantized once, activations per batch); CPU only.

    Faster on a CPU without fast bf16; rewards move slightly (the README gives how much on HH-RLHF).
    """
    import torch

    with warnings.catch_warnings():
        # torch marks torch.ao.quantization deprecated in favour of torchao (not a dependency); it works in the
        # pinned torch 2.13, and the int8 tests fail loudly if a later torch removes it.
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def load_reward_model(model_dir: str | Path, *, device: str | None = None):
    """Load (model, tokenizer, training record) from a folder rm_training.train wrote (or any reward model)."""
    import torch
    from transformers import AutoTokenizer

    model_dir = Path(model_dir)
    check_reward_model_folder(model_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = load_classifier(model_dir)
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


def encoder_for(model, tokenizer, record: dict) -> PairEncoder:
    """The encoder the model was trained with: its max length and input template (a model trained before the
    template was recorded, or elsewhere, gets the tokenizer's pair template)."""
    template = (record.get("config") or {}).get("input_template") or "pair"
    return PairEncoder(tokenizer, max_length_for(model, record), template)


def check_quantize(quantize: str | None, precision: str) -> None:
    """Refuse a quantization this scorer cannot do: only int8, only on CPU, and not combined with bf16."""
    if quantize is None:
        return
    if quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"quantize must be one of {', '.join(QUANTIZE_CHOICES)} (or none), not {quantize!r}")
    if cuda_available():
        raise ValueError("int8 quantization is for scoring on a CPU; this machine has CUDA: score without it "
                         "(bf16 where the GPU supports it)")
    if precision == "bf16":
        raise ValueError("int8 quantization runs everything but the Linear layers in fp32: "
                         "use precision 'auto' or 'fp32' with it")


def score(model_dir: str | Path, pairs: list[Pair], *, batch_size: int = 64, precision: str = "auto",
          threads: int | None = None, batch_tokens: int = DEFAULT_BATCH_TOKENS,
          quantize: str | None = None) -> ScoreResult:
    """Score pairs with the model in `model_dir`; rows come back in input order, plus a summary.

    `quantize="int8"` (CPU only, opt-in) runs the Linear layers in int8: faster, rewards slightly off.
    """
    if batch_size < 1 or batch_tokens < 1:
        raise ValueError(f"batch_size and batch_tokens must be at least 1 (got {batch_size}, {batch_tokens})")
    check_quantize(quantize, precision)
    bf16 = use_bf16(precision) and quantize is None
    threads = set_threads(threads)
    model, tokenizer, record = load_reward_model(model_dir)
    if quantize:
        quantize_int8(model)
    encoder = encoder_for(model, tokenizer, record)
    started = time.perf_counter()
    chosen, rejected = score_encoded(model, tokenizer, encoder, pairs, batch_size=batch_size,
                                     batch_tokens=batch_tokens, bf16=bf16)
    seconds = time.perf_counter() - started
    p = metrics.p_chosen(chosen, rejected)
    rows = [{"index": i, "reward_chosen": c, "reward_rejected": r, "p_chosen": float(pc)}
            for i, (c, r, pc) in enumerate(zip(chosen, rejected, p))]
    summary = metrics.summarize(chosen, rejected)
    summary["truncation"] = encoder.report.as_dict()
    summary["inference"] = {
        "device": next(model.parameters()).device.type, "threads": threads, "quantize": quantize,
        "precision": "int8 Linear layers (dynamic), fp32 elsewhere" if quantize else ("bf16 autocast, head in fp32" if bf16 else "fp32"),
        "batch_tokens": batch_tokens, "batch_size": batch_size, "seconds": round(seconds, 3),
        "pairs_per_second": round(len(pairs) / seconds, 3) if seconds > 0 else None,
    }
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
    parser.add_argument("--batch-size", type=int, default=64, help="most sequences per batch (default 64)")
    parser.add_argument("--batch-tokens", type=int, default=DEFAULT_BATCH_TOKENS,
                        help=f"most padded tokens per batch, rows x longest (default {DEFAULT_BATCH_TOKENS})")
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--quantize", choices=QUANTIZE_CHOICES, default=None,
                        help="int8: run the Linear layers in int8 on the CPU (faster; rewards move slightly)")
    args = parser.parse_args(argv)
    try:
        loaded = load_pairs(args.pairs)
        pairs = {"train": loaded.train, "test": loaded.test, "all": loaded.train + loaded.test}[args.split]
        if not pairs:
            raise DatasetError(f"{args.pairs}: the {args.split} split is empty")
        result = score(args.model, pairs, batch_size=args.batch_size, precision=args.precision,
                       batch_tokens=args.batch_tokens, quantize=args.quantize)
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
