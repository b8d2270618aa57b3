"""Train a reward model on preference pairs with TRL's RewardTrainer.

    python -m rm_training.train --dataset EXPORT_DIR_OR_FILE --output-dir models/rm-1 [--max-steps 200 ...]

Several GPUs or machines run the same script (see the README):

    accelerate launch --num_processes 4 -m rm_training.train --dataset ... --output-dir ...
    torchrun --nproc_per_node 4 -m rm_training.train --dataset ... --output-dir ...

The steps, in order: check the request (before any weights move), read and tokenize the pairs ourselves
(TRL's max_length would silently drop long pairs), train with checkpoints (a re-run resumes from the last
one), evaluate, then write the model folder under a temporary name and rename it when complete.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download anything at run time

from datasets import Dataset
from transformers import AutoTokenizer, PrinterCallback, TrainerCallback, set_seed
from trl import RewardConfig, RewardTrainer

from . import metrics
from .card import curve_summary, render_card
from .checks import BaseModelError, check_base_model, first_line
from .config import TrainConfig
from .data import DatasetError, Pair, PairSet, load_pairs, manifest_provenance
from .device import cuda_available, keep_head_in_fp32, load_classifier, set_threads, use_bf16
from .encoding import PairEncoder
from .score import score_encoded

Progress = Callable[[int, int, dict], None]
RUN_CONFIG = "run_config.json"


class TrainError(ValueError):
    """A training request that cannot run; raised before any training step, with the reason."""


@dataclasses.dataclass
class TrainResult:
    output_dir: Path
    record: dict


def train(config: TrainConfig, progress: Progress | None = None) -> TrainResult:
    """Train, evaluate and write the model folder; call progress(step, total_steps, logs) as it goes.

    If `progress` raises, training stops, no model folder is written, checkpoints stay for a resume, and
    the exception propagates.
    """
    started = time.time()
    output_dir, checkpoint_dir = Path(config.output_dir), config.resolved_checkpoint_dir()
    check_output_dir(output_dir)
    bf16 = use_bf16(config.precision)
    threads = set_threads(config.threads)
    pairs = load_pairs(config.dataset)
    train_pairs, eval_pairs, eval_source = split_for_eval(pairs, config)
    model, tokenizer = load_base(config)
    if bf16:
        keep_head_in_fp32(model)
    encoder = PairEncoder(tokenizer, config.max_length, config.input_template)
    train_set = encode_dataset(encoder, train_pairs, use_margin=config.use_margin and pairs.has_margin)
    train_truncation = dataclasses.replace(encoder.report)
    eval_set = encode_dataset(encoder, eval_pairs, use_margin=False) if eval_pairs else None
    resume_from = prepare_checkpoint_dir(checkpoint_dir, config)

    trainer = build_trainer(config, model, tokenizer, train_set, eval_set, checkpoint_dir, bf16, progress)
    output = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    train_seconds = time.time() - started

    evaluation = evaluate(trainer.model, tokenizer, config, eval_pairs, bf16) if eval_pairs else {}
    record = {
        "config": config.to_dict(),
        "provenance": {**manifest_provenance(pairs), **config.provenance},
        "counts": {"train_pairs": len(train_pairs), "eval_pairs": len(eval_pairs),
                   "pairs_in_dataset": len(pairs.train) + len(pairs.test),
                   "margin_used": bool(config.use_margin and pairs.has_margin),
                   "steps": trainer.state.global_step, "epochs": round(trainer.state.epoch or 0, 3),
                   "train_tokens": int(max((e.get("num_tokens", 0) for e in trainer.state.log_history), default=0)),
                   "resumed_from_step": step_of(resume_from)},
        "truncation": encoder.report.as_dict(),
        "truncation_train": train_truncation.as_dict(),
        "train_metrics": output.metrics,  # runtime, samples/s (of this process: after a resume, its part)
        "curve": curve_summary(trainer.state.log_history),
        "log_history": trainer.state.log_history,
        "eval": evaluation,
        "eval_source": eval_source,
        "environment": {"bf16": bf16, "threads": threads, "device": str(trainer.args.device),
                        "world_size": trainer.args.world_size, "python": platform.python_version(),
                        "seconds": round(train_seconds, 1)},
    }
    if trainer.is_world_process_zero():
        write_model_folder(trainer.accelerator.unwrap_model(trainer.model), tokenizer, record, output_dir)
        if not config.keep_checkpoints:
            shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return TrainResult(output_dir, record)


# ---------------------------------------------------------------- checks before any training step

def check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and (not output_dir.is_dir() or any(output_dir.iterdir())):
        raise TrainError(f"output folder {output_dir} already exists and is not empty; pick a new one")


def split_for_eval(pairs: PairSet, config: TrainConfig) -> tuple[list[Pair], list[Pair], str]:
    """Use the dataset's test split for evaluation, else hold out `eval_fraction` of train (seeded)."""
    if pairs.test:
        return pairs.train, pairs.test, f"the dataset's test split ({len(pairs.test)} pairs)"
    if not 0 <= config.eval_fraction < 1:
        raise TrainError(f"eval_fraction must be in [0, 1), not {config.eval_fraction}")
    n_eval = math.ceil(len(pairs.train) * config.eval_fraction)
    if n_eval == 0:
        return pairs.train, [], "none"
    if n_eval >= len(pairs.train):
        raise TrainError(f"{len(pairs.train)} pairs are too few to hold out {config.eval_fraction:.0%} for "
                         f"evaluation and still train; add pairs or set eval_fraction to 0")
    order = list(range(len(pairs.train)))
    random.Random(config.seed).shuffle(order)
    held_out = set(order[:n_eval])
    train = [p for i, p in enumerate(pairs.train) if i not in held_out]
    return train, [pairs.train[i] for i in sorted(held_out)], f"{n_eval} pairs held out of train (seed {config.seed})"


def load_base(config: TrainConfig):
    """Load tokenizer and a one-output classifier from the base, offline; check the max length fits."""
    try:
        check_base_model(config.base_model, config.max_length)
    except BaseModelError as error:
        raise TrainError(str(error)) from None
    # The reward head is new weights, drawn from the global RNG: seed it here, or the same config and seed
    # give another head (and another model) in every process, since the Trainer seeds only after this.
    set_seed(config.seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(config.base_model)
        model = load_classifier(config.base_model)
    except (OSError, ValueError) as error:
        raise TrainError(f"base model {config.base_model!r} cannot be loaded: {first_line(error)}") from None
    if tokenizer.pad_token is None:  # causal LMs: pad with EOS, the usual choice
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def encode_dataset(encoder: PairEncoder, pairs: list[Pair], *, use_margin: bool):
    """Tokenize pairs into TRL's pre-tokenized columns (chosen_ids, rejected_ids[, margin]) plus a length.

    The length the sampler groups by is a pair's longer side: TRL's collator pads every chosen and
    rejected sequence of a batch to the longest one, so that is what a pair costs. Grouped by the sum,
    (100, 500) and (300, 300) shared batches; on the train bench's split (seed 0, 512 tokens) 80 % of
    the padded tokens were real, grouped by the longer side 90 %."""
    chosen, rejected = encoder.encode_pairs(pairs)
    columns = {"chosen_ids": chosen, "rejected_ids": rejected,
               "length": [max(len(c), len(r)) for c, r in zip(chosen, rejected)]}
    if use_margin:
        columns["margin"] = [p.margin or 0.0 for p in pairs]
    return Dataset.from_dict(columns)


def prepare_checkpoint_dir(checkpoint_dir: Path, config: TrainConfig) -> Path | None:
    """Return the last checkpoint to resume from, after checking it belongs to the same recipe."""
    recipe = {k: v for k, v in config.to_dict().items() if k not in ("threads", "provenance")}
    saved = checkpoint_dir / RUN_CONFIG
    if saved.is_file():
        before = json.loads(saved.read_text())
        changed = sorted(k for k in recipe.keys() | before.keys() if recipe.get(k) != before.get(k))
        if changed:
            raise TrainError(f"checkpoint folder {checkpoint_dir} belongs to a run with other settings "
                             f"({', '.join(changed)}); use another checkpoint_dir or the same settings")
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(recipe, indent=2))
    checkpoints = sorted(checkpoint_dir.glob("checkpoint-*"), key=step_of)
    complete = [c for c in checkpoints if (c / "trainer_state.json").is_file()]
    return complete[-1] if complete else None


def step_of(checkpoint: Path | None) -> int:
    return int(checkpoint.name.rsplit("-", 1)[1]) if checkpoint else 0


# ---------------------------------------------------------------- training

def build_trainer(config, model, tokenizer, train_set, eval_set, checkpoint_dir, bf16, progress):
    total = planned_steps(config, len(train_set))
    args = RewardConfig(
        output_dir=str(checkpoint_dir),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size * 2,
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        seed=config.seed,
        data_seed=config.seed,
        bf16=bf16,
        activation_checkpointing=False,  # ~16 % slower on CPU, and MiniLM fits in memory anyway
        use_cpu=not cuda_available(),
        max_length=None,  # we truncated ourselves: TRL's filter would drop long pairs
        train_sampling_strategy="group_by_length",  # batches of similar lengths: little padding
        length_column_name="length",
        remove_unused_columns=False,  # keep "length" for the sampler; the collator ignores it
        logging_steps=config.logging_steps,
        eval_strategy="steps" if eval_set is not None else "no",
        eval_steps=config.eval_steps or max(1, total // 10),
        save_strategy="steps",
        save_steps=config.save_steps or max(1, total // 5),
        save_total_limit=2,
        report_to="none",
        disable_tqdm=True,
    )
    callbacks = [ProgressCallback(progress)] if progress else []
    trainer = RewardTrainer(model=model, args=args, processing_class=tokenizer, train_dataset=train_set,
                            eval_dataset=eval_set, callbacks=callbacks)
    trainer.remove_callback(PrinterCallback)  # progress goes to the caller's callback, not to stdout
    return trainer


def planned_steps(config: TrainConfig, n_train: int) -> int:
    if config.max_steps:
        return config.max_steps
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return max(1, math.ceil(config.epochs * math.ceil(n_train / (config.batch_size * world))))


class ProgressCallback(TrainerCallback):
    """Forward each log (loss, eval accuracy) to the caller's progress function."""

    def __init__(self, progress: Progress):
        self.progress = progress

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero:
            self.progress(state.global_step, state.max_steps, dict(logs or {}))


# ---------------------------------------------------------------- evaluation and output

def evaluate(model, tokenizer, config: TrainConfig, eval_pairs: list[Pair], bf16: bool) -> dict:
    """Score the eval pairs with the trained model (the scorer's own path) and summarize."""
    encoder = PairEncoder(tokenizer, config.max_length, config.input_template)
    chosen, rejected = score_encoded(model, tokenizer, encoder, eval_pairs, batch_size=config.batch_size * 4,
                                     bf16=bf16)
    return metrics.summarize(chosen, rejected)


def write_model_folder(model, tokenizer, record: dict, output_dir: Path) -> None:
    """Write weights, tokenizer, config, metrics.json and README.md, then rename into place."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = output_dir.parent / f".{output_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        model.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        (partial / "metrics.json").write_text(json.dumps(record, indent=2, default=str))
        (partial / "README.md").write_text(render_card(record))
        if output_dir.exists():
            output_dir.rmdir()  # checked empty before training
        partial.rename(output_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


# ---------------------------------------------------------------- command line

def parse_args(argv: list[str] | None) -> TrainConfig:
    parser = argparse.ArgumentParser(prog="python -m rm_training.train", description=__doc__.split("\n\n")[0])
    for f in dataclasses.fields(TrainConfig):
        if f.name == "provenance":
            parser.add_argument("--provenance", type=json.loads, default={},
                                help="JSON object recorded in the model card (export id, ...)")
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not dataclasses.MISSING else dataclasses.MISSING
        if f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif default is dataclasses.MISSING:
            parser.add_argument(flag)  # default_factory: resolved by the dataclass
        else:
            kind = {"int | None": int, "int": int, "float": float, "str | None": str}.get(f.type, str)
            parser.add_argument(flag, type=kind, default=default)
    values = {k: v for k, v in vars(parser.parse_args(argv)).items() if v is not None}
    if not values.get("dataset"):
        parser.error("--dataset is required")
    return TrainConfig(**values)


def print_progress(step: int, total: int, logs: dict) -> None:
    shown = {k: round(v, 4) for k, v in logs.items() if k in ("loss", "eval_loss", "eval_accuracy", "accuracy")}
    if shown:
        print(f"step {step}/{total} {json.dumps(shown)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    try:
        result = train(config, progress=print_progress)
    except (TrainError, DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"output_dir": str(result.output_dir), "eval": result.record["eval"],
                      "counts": result.record["counts"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
