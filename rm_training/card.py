"""The model card: a Hugging Face style README.md that says what the model learned from and how well it did."""
from __future__ import annotations

import json


def curve_summary(log_history: list[dict]) -> dict:
    """Summarize the training log: loss at start / end / best, and every evaluation's accuracy by step."""
    losses = [(e["step"], e["loss"]) for e in log_history if "loss" in e]
    evals = [(e["step"], e["eval_accuracy"]) for e in log_history if "eval_accuracy" in e]
    summary = {"logged_steps": len(losses)}
    if losses:
        head = [loss for _, loss in losses[:max(1, len(losses) // 10)]]
        tail = [loss for _, loss in losses[-max(1, len(losses) // 10):]]
        summary.update(first_loss=losses[0][1], last_loss=losses[-1][1], min_loss=min(l for _, l in losses),
                       mean_loss_first_tenth=sum(head) / len(head), mean_loss_last_tenth=sum(tail) / len(tail))
    if evals:
        summary["eval_accuracy_by_step"] = [{"step": s, "accuracy": a} for s, a in evals]
    return summary


def _table(facts: dict) -> str:
    rows = "\n".join(f"| {key} | {json.dumps(value) if not isinstance(value, str) else value} |"
                     for key, value in facts.items())
    return "| | |\n|---|---|\n" + rows


def render_card(record: dict) -> str:
    """Render README.md from the metrics record train() writes to metrics.json."""
    provenance, counts, config = record["provenance"], record["counts"], record["config"]
    evaluation, curve = record.get("eval") or {}, record["curve"]
    front = {"library_name": "transformers", "pipeline_tag": "text-classification",
             "tags": ["reward-model", "trl", "preference-workbench"], "base_model": config["base_model"]}
    front_matter = "\n".join(f"{k}: {json.dumps(v)}" for k, v in front.items())
    guidelines = provenance.get("guideline_versions")
    return f"""---
{front_matter}
---

# Reward model trained with rm_training

A reward model (one scalar output per `prompt [SEP] reply`) trained with TRL's `RewardTrainer` on
preference pairs. Higher reward means "preferred"; `sigmoid(r_chosen - r_rejected)` is the model's
P(chosen preferred).

## Training data (provenance)

{_table({k: v for k, v in provenance.items() if k != "guideline_versions"})}

Guideline versions: {json.dumps(guidelines) if guidelines else "not recorded (the dataset carried no manifest)"}

## Counts

{_table(counts)}

## Truncation (training split)

Pairs longer than `max_length` are cut, never dropped: {record["truncation"]["how"]}.

{_table({k: v for k, v in record["truncation_train"].items() if k != "how"})}

## Training curve

{_table(curve)}

## Evaluation ({record.get("eval_source", "none")})

{_table(evaluation) if evaluation else "No evaluation split."}

## Use

```
python -m rm_training.score --model THIS_FOLDER --pairs pairs.jsonl --output scores.jsonl
```

## Configuration

```json
{json.dumps(config, indent=2)}
```

Environment: {json.dumps(record.get("environment", {}))}
"""
