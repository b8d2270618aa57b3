"""Reward-model training benchmark: our recipe against a plain TRL RewardTrainer run, same data, same model.

    .venv/bin/python bench/train_bench.py                      # 1,600 train / 400 test HH-RLHF pairs, default recipe
    .venv/bin/python bench/train_bench.py --train-pairs 64 --test-pairs 32 --max-steps 4   # quick check

Each run is its own child process (so peak memory is its own). Prints, side by side: held-out accuracy on
the same 400 test pairs, training tokens/s (non-padding tokens through the model per second of the training
loop, as TRL counts them) and pairs/s, and peak RSS.

"ours":  rm_training.train with the default TrainConfig (own truncation to max_length, length-grouped
         batches, no gradient checkpointing, bf16 where the CPU has it, all cores), no in-loop evaluation.
"plain": trl.RewardTrainer with its defaults on the same raw HH-RLHF text. RewardConfig turns bf16 and
         gradient checkpointing on by default, on a CPU too (without avx512_bf16/amx_bf16 torch emulates
         bf16); the bench prints what they resolved to. Only what it needs to run at all is set:
         eos_token="[SEP]" (BERT has no EOS), max_length=512 (MiniLM's positions; TRL then *drops* longer
         pairs), use_cpu, and the same batch size, epochs/steps and seed as ours; its reward head is
         seeded before loading and Hub kernels are off, as for ours (rm_training.device.load_classifier).
         Its held-out accuracy is scored over all test pairs on its own input form (prompt+reply+[SEP],
         cut from the left to 512 tokens), with the same batched scorer.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT / "fixtures" / "hh_rlhf_helpful_dev.jsonl.gz"


def split_rows(path: Path, n_train: int, n_test: int, seed: int) -> tuple[list[dict], list[dict]]:
    rows = [json.loads(line) for line in gzip.open(path, "rt")]
    rows = [{"chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]
    random.Random(seed).shuffle(rows)
    return rows[:n_train], rows[n_train:n_train + n_test]


def write_split(folder: Path, train_rows: list[dict], test_rows: list[dict]) -> Path:
    """Write the split as a dataset folder rm_training reads (train.jsonl, test.jsonl); return it."""
    folder.mkdir()
    for name, rows in (("train", train_rows), ("test", test_rows)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process: on a shared machine, wall-clock figures also measure the neighbours."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_ours(args, train_rows, test_rows, work: Path) -> dict:
    from rm_training.config import TrainConfig
    from rm_training.train import train

    data = write_split(work / "data", train_rows, test_rows)
    overrides = {"batch_size": args.batch_size, "seed": args.seed, "epochs": args.epochs}
    if args.max_length:
        overrides["max_length"] = args.max_length
    if args.max_steps:
        overrides["max_steps"] = args.max_steps
    config = TrainConfig(dataset=str(data), output_dir=str(work / "model"), eval_steps=10**9, **overrides)
    cpu_before = cpu_seconds()
    record = train(config).record
    cpu = cpu_seconds() - cpu_before
    metrics = record["train_metrics"]
    return {"accuracy": record["eval"]["accuracy"], "tokens_per_s": record["counts"]["train_tokens"] /
            metrics["train_runtime"], "pairs_per_s": metrics["train_samples_per_second"],
            "train_seconds": metrics["train_runtime"], "train_tokens": record["counts"]["train_tokens"],
            "pairs_trained_on": record["counts"]["train_pairs"],
            "pairs_truncated": record["truncation_train"]["pairs_truncated"],
            "config": {k: record["config"][k] for k in ("max_length", "batch_size", "learning_rate", "epochs",
                                                        "max_steps", "precision")},
            "bf16": record["environment"]["bf16"], "peak_rss_mb": peak_rss_mb(),
            "cpu_seconds_load_train_eval": cpu}


def run_plain(args, train_rows, test_rows, work: Path) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, set_seed
    from trl import RewardConfig, RewardTrainer

    from rm_training import metrics
    from rm_training.config import default_base_model
    from rm_training.device import load_classifier, use_bf16
    from rm_training.score import reward_scores

    base = default_base_model()
    tokenizer = AutoTokenizer.from_pretrained(base)
    cpu_before = cpu_seconds()
    set_seed(args.seed)  # the reward head is new weights: seeded as ours is, so a split's run repeats
    model = load_classifier(base)  # as ours: no Hub kernels
    config = RewardConfig(output_dir=str(work / "plain"), eos_token=tokenizer.sep_token, max_length=512,
                          use_cpu=not torch.cuda.is_available(), per_device_train_batch_size=args.batch_size,
                          num_train_epochs=args.epochs, max_steps=args.max_steps or -1, seed=args.seed,
                          report_to="none", disable_tqdm=True)
    trainer = RewardTrainer(model=model, args=config, processing_class=tokenizer,
                            train_dataset=Dataset.from_list(train_rows))
    kept = len(trainer.train_dataset)
    output = trainer.train()
    effective = plain_effective_settings(trainer)
    tokens = max(e.get("num_tokens", 0) for e in trainer.state.log_history)

    tokenizer.truncation_side = "left"  # keep the final replies, where chosen and rejected differ
    encode = lambda texts: tokenizer([t + tokenizer.sep_token for t in texts], truncation=True,  # noqa: E731
                                     max_length=512)["input_ids"]
    sequences = encode([r["chosen"] for r in test_rows]) + encode([r["rejected"] for r in test_rows])
    rewards = reward_scores(trainer.model, sequences, pad_id=tokenizer.pad_token_id,
                            bf16=use_bf16("auto"))
    n = len(test_rows)
    cpu = cpu_seconds() - cpu_before
    return {"accuracy": metrics.accuracy(rewards[:n], rewards[n:]),
            "tokens_per_s": tokens / output.metrics["train_runtime"],
            "pairs_per_s": output.metrics["train_samples_per_second"],
            "train_seconds": output.metrics["train_runtime"], "train_tokens": int(tokens),
            "pairs_trained_on": kept, "pairs_dropped_by_max_length": len(train_rows) - kept,
            "config": {"max_length": 512, "batch_size": args.batch_size, "learning_rate": config.learning_rate,
                       "epochs": args.epochs, "max_steps": args.max_steps,
                       "gradient_checkpointing": config.gradient_checkpointing, "bf16": config.bf16},
            "effective": effective, "peak_rss_mb": peak_rss_mb(), "cpu_seconds_load_train_eval": cpu}


def plain_effective_settings(trainer) -> dict:
    """What TRL's defaults resolved to in the run (read after training: the Trainer turns gradient
    checkpointing on inside train()): RewardConfig's bf16 default is `not fp16`, i.e. on, even on a CPU
    without avx512_bf16/amx_bf16, where torch emulates bf16 arithmetic."""
    from rm_training.device import bf16_supported

    return {"bf16": trainer.args.bf16, "mixed_precision": str(trainer.accelerator.mixed_precision),
            "gradient_checkpointing": trainer.args.gradient_checkpointing,
            "model_is_gradient_checkpointing": bool(getattr(trainer.model, "is_gradient_checkpointing", False)),
            "bf16_fast_on_this_machine": bf16_supported()}


def child(args) -> None:
    if args.epochs is None:
        from rm_training.config import TrainConfig

        args.epochs = TrainConfig.epochs
    train_rows, test_rows = split_rows(Path(args.data), args.train_pairs, args.test_pairs, args.seed)
    with tempfile.TemporaryDirectory(prefix=f"train-bench-{args.child}-") as work:
        result = (run_ours if args.child == "ours" else run_plain)(args, train_rows, test_rows, Path(work))
    print("RESULT " + json.dumps(result))


def run_child(which: str, argv: list[str]) -> dict:
    started = time.time()
    proc = subprocess.run([sys.executable, __file__, "--child", which, *argv], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{which} run failed:\n{proc.stderr[-4000:]}")
    line = next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["wall_seconds"] = round(time.time() - started, 1)
    return result


def add_split_arguments(parser: argparse.ArgumentParser) -> None:
    """The protocol's data and split (--data, --train-pairs, --test-pairs, --seed), for every bench that shares it."""
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--train-pairs", type=int, default=1600)
    parser.add_argument("--test-pairs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_split_arguments(parser)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=float, default=None, help="default: TrainConfig's")
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=None,
                        help="ours only (default: TrainConfig's); plain TRL keeps 512, MiniLM's positions")
    parser.add_argument("--only", choices=["ours", "plain"], help="run one side only")
    parser.add_argument("--child", choices=["ours", "plain"], help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.child:
        return child(args)
    argv = [a for a in sys.argv[1:] if a not in ("--only", "ours", "plain")]
    results = {which: run_child(which, argv) for which in ("ours", "plain") if args.only in (None, which)}
    print(json.dumps({"load_average_at_end": os.getloadavg(),
                      "data": f"{args.train_pairs} train / {args.test_pairs} test pairs, seed {args.seed}",
                      **results}, indent=2))
    if "plain" in results:
        settings = results["plain"]["effective"]
        print(f"\nplain TRL effective settings: bf16 {settings['bf16']} (accelerate mixed precision "
              f"{settings['mixed_precision']}; fast bf16 on this machine: {settings['bf16_fast_on_this_machine']}), "
              f"gradient_checkpointing {settings['gradient_checkpointing']} "
              f"(model checkpointing: {settings['model_is_gradient_checkpointing']})")
    if len(results) == 2:
        ours, plain = results["ours"], results["plain"]
        print(f"\n{'':24}{'ours':>12}{'plain TRL':>12}")
        for key in ("accuracy", "tokens_per_s", "pairs_per_s", "train_seconds", "peak_rss_mb",
                    "cpu_seconds_load_train_eval"):
            print(f"{key:24}{ours[key]:>12.3f}{plain[key]:>12.3f}")
        print(f"throughput ratio (tokens/s): {ours['tokens_per_s'] / plain['tokens_per_s']:.2f}x, "
              f"(pairs/s): {ours['pairs_per_s'] / plain['pairs_per_s']:.2f}x")


if __name__ == "__main__":
    main()
