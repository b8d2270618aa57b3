"""Every bad request fails before a training step, with a clear message, and leaves no folder behind."""
import json

import pytest

from rm_training.data import DatasetError
from rm_training.train import TrainError, main, train

from .conftest import separable_pairs, write_jsonl
from .test_training import tiny_config


@pytest.fixture
def dataset(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", separable_pairs(12))
    return tmp_path / "pairs.jsonl"


def assert_nothing_written(tmp_path):
    assert not (tmp_path / "model").exists() and not (tmp_path / "model.checkpoints").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_it_refuses_an_output_folder_that_is_not_empty(tmp_path, dataset):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "keep.txt").write_text("mine")
    with pytest.raises(TrainError, match="already exists and is not empty"):
        train(tiny_config(dataset, tmp_path / "model"))
    assert (tmp_path / "model" / "keep.txt").read_text() == "mine"


def test_it_refuses_a_base_model_path_that_cannot_be_loaded(tmp_path, dataset):
    with pytest.raises(TrainError, match="base model '/nonexistent/model' cannot be loaded"):
        train(tiny_config(dataset, tmp_path / "model", base_model="/nonexistent/model"))
    assert_nothing_written(tmp_path)


def test_it_refuses_a_max_length_beyond_the_model(tmp_path, dataset):
    with pytest.raises(TrainError, match=r"max_length 1024 is beyond .*\(512 positions\)"):
        train(tiny_config(dataset, tmp_path / "model", max_length=1024))
    assert_nothing_written(tmp_path)


def test_it_refuses_a_classifier_base_with_several_outputs(tmp_path, dataset):
    base = tmp_path / "classifier"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({
        "model_type": "bert", "architectures": ["BertForSequenceClassification"],
        "id2label": {"0": "neg", "1": "pos"}, "label2id": {"neg": 0, "pos": 1}}))
    with pytest.raises(TrainError, match="classifier with 2 outputs"):
        train(tiny_config(dataset, tmp_path / "model", base_model=str(base)))


def test_it_names_the_line_of_a_bad_row_before_loading_the_model(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", separable_pairs(3) + [{"prompt": "Q", "rejected": "x"}])
    with pytest.raises(DatasetError, match="line 4: missing field 'chosen'"):
        train(tiny_config(tmp_path / "pairs.jsonl", tmp_path / "model"))
    assert_nothing_written(tmp_path)


def test_it_refuses_too_few_pairs_to_hold_out_an_eval_split(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", separable_pairs(1))
    with pytest.raises(TrainError, match="too few"):
        train(tiny_config(tmp_path / "pairs.jsonl", tmp_path / "model", eval_fraction=0.5))


def test_the_train_command_exits_non_zero_with_the_message(tmp_path, dataset, capsys):
    code = main(["--dataset", str(dataset), "--output-dir", str(tmp_path / "model"), "--max-length", "4096"])
    assert code == 2 and "max_length 4096" in capsys.readouterr().err
