"""Shared data makers for the rm_training tests (plain Python: no database)."""
import json
import random

import pytest


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


GOOD = ["Sure, here is a clear and correct answer", "Happy to help: the answer is below, step by step",
        "Great question. Here is an accurate explanation", "Of course! Here is what you need to know"]
BAD = ["No. Figure it out yourself", "I will not answer that, go away", "Whatever, this question is stupid",
       "Not my problem, ask someone else"]
TOPICS = ["boiling water", "tax returns", "planting tomatoes", "fixing a bike chain", "sorting a list",
          "learning French", "baking bread", "writing a CV", "training a dog", "saving money"]


def separable_pairs(n: int, seed: int = 0) -> list[dict]:
    """Pairs anyone can tell apart: a polite useful reply beats a rude refusal."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        rows.append({"prompt": f"How do I go about {topic}? (question {i})",
                     "chosen": f" {rng.choice(GOOD)} about {topic}.",
                     "rejected": f" {rng.choice(BAD)}."})
    return rows


def write_jsonl(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


MANIFEST = {"export_id": 42, "provenance": {"export_id": 42, "project": "demo", "requested_by": "carol"},
            "guideline_versions": [{"version": 1, "sha256": "a" * 64}, {"version": 2, "sha256": "b" * 64}]}


def export_folder(root, n_train: int, n_test: int, seed: int = 0):
    """An export laid out as ours are: train.jsonl, test.jsonl and manifest.json."""
    rows = separable_pairs(n_train + n_test, seed)
    write_jsonl(root / "train.jsonl", rows[:n_train])
    write_jsonl(root / "test.jsonl", rows[n_train:])
    (root / "manifest.json").write_text(json.dumps(MANIFEST))
    return root
