"""A run stopped mid-way (its progress callback raised) leaves no model, and a re-run resumes from its checkpoint."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rm_training.train import TrainError, train

from .conftest import separable_pairs
from .test_training import tiny_config


class Cancelled(Exception):
    pass


def conversational_hf_folder(root):
    """A Hugging Face dataset folder of conversational rows with a margin column, as our exports write."""
    rows = [{"prompt": [{"role": "user", "content": r["prompt"]}],
             "chosen": [{"role": "assistant", "content": r["chosen"].strip()}],
             "rejected": [{"role": "assistant", "content": r["rejected"].strip()}],
             "margin": 1.0 if i % 2 else 0.5} for i, r in enumerate(separable_pairs(40))]
    (root / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows[:32]), root / "data" / "train-00000-of-00001.parquet")
    pq.write_table(pa.Table.from_pylist(rows[32:]), root / "data" / "test-00000-of-00001.parquet")
    return root


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path):
    dataset = conversational_hf_folder(tmp_path / "export")
    config = tiny_config(dataset, tmp_path / "model", max_steps=8, save_steps=3, eval_steps=4)

    def cancel_at_step_7(step, total, logs):
        if step >= 7:
            raise Cancelled

    with pytest.raises(Cancelled):
        train(config, progress=cancel_at_step_7)
    assert not (tmp_path / "model").exists()
    checkpoints = sorted(p.name for p in (tmp_path / "model.checkpoints").glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-3", "checkpoint-6"]

    seen = []
    result = train(config, progress=lambda step, total, logs: seen.append(step))
    assert result.record["counts"]["resumed_from_step"] == 6
    assert result.record["counts"]["steps"] == 8 and min(seen) == 7
    assert result.record["counts"]["margin_used"] is True
    assert result.record["provenance"]["row_format"] == "conversational"
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["counts"]["resumed_from_step"] == 6
    assert not (tmp_path / "model.checkpoints").exists()


def test_it_refuses_to_resume_a_checkpoint_folder_made_with_other_settings(tmp_path):
    dataset = conversational_hf_folder(tmp_path / "export")
    (tmp_path / "model.checkpoints").mkdir()
    other = tiny_config(dataset, tmp_path / "model", learning_rate=0.5)
    (tmp_path / "model.checkpoints" / "run_config.json").write_text(json.dumps(
        {k: v for k, v in other.to_dict().items() if k not in ("threads", "provenance")}))
    with pytest.raises(TrainError, match="other settings .*learning_rate"):
        train(tiny_config(dataset, tmp_path / "model"))
