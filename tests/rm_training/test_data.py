import gzip
import hashlib
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rm_training.data import DatasetError, load_pairs, manifest_provenance, split_implicit

from .conftest import MANIFEST, export_folder, write_jsonl

HH = {"chosen": "\n\nHuman: Hi, how do I boil an egg?\n\nAssistant: Put it in boiling water for 8 minutes.",
      "rejected": "\n\nHuman: Hi, how do I boil an egg?\n\nAssistant: No idea."}
CONVERSATIONAL = {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
                  "chosen": [{"role": "assistant", "content": "4"}],
                  "rejected": [{"role": "assistant", "content": "5"}], "margin": 1.5}


def test_it_reads_standard_rows_with_an_explicit_prompt(tmp_path):
    write_jsonl(tmp_path / "p.jsonl", [{"prompt": "Q?", "chosen": " yes", "rejected": " no"}])
    pairs = load_pairs(tmp_path / "p.jsonl")
    assert [(p.prompt, p.chosen, p.rejected, p.margin) for p in pairs.train] == [("Q?", " yes", " no", None)]
    assert pairs.row_format == "standard" and pairs.test == []


def test_it_splits_hh_rlhf_transcripts_at_the_last_shared_assistant_turn(tmp_path):
    with gzip.open(tmp_path / "hh.jsonl.gz", "wt") as handle:
        handle.write(json.dumps(HH) + "\n")
    pair = load_pairs(tmp_path / "hh.jsonl.gz").train[0]
    assert pair.prompt == "\n\nHuman: Hi, how do I boil an egg?\n\nAssistant:"
    assert (pair.chosen, pair.rejected) == (" Put it in boiling water for 8 minutes.", " No idea.")


def test_it_splits_transcripts_without_cues_at_a_word_boundary():
    assert split_implicit("The cat sat", "The cat ran") == ("The cat", " sat", " ran")


def test_it_renders_conversational_rows_and_keeps_the_margin(tmp_path):
    write_jsonl(tmp_path / "c.jsonl", [CONVERSATIONAL])
    pair = load_pairs(tmp_path / "c.jsonl").train[0]
    assert pair.prompt == "\n\nSystem: Be brief.\n\nHuman: 2+2?\n\nAssistant:"
    assert (pair.chosen, pair.rejected, pair.margin) == (" 4", " 5", 1.5)


def test_it_reads_implicit_conversations(tmp_path):
    user = {"role": "user", "content": "Hi"}
    write_jsonl(tmp_path / "i.jsonl", [{"chosen": [user, {"role": "assistant", "content": "Hello!"}],
                                        "rejected": [user, {"role": "assistant", "content": "Go away."}]}])
    pair = load_pairs(tmp_path / "i.jsonl").train[0]
    assert (pair.prompt, pair.chosen, pair.rejected) == ("\n\nHuman: Hi\n\nAssistant:", " Hello!", " Go away.")


def test_it_reads_a_hugging_face_dataset_folder_with_both_splits(tmp_path):
    (tmp_path / "data").mkdir()
    table = pa.Table.from_pylist([{"prompt": "Q", "chosen": " a", "rejected": " b"}] * 3)
    pq.write_table(table, tmp_path / "data" / "train-00000-of-00001.parquet")
    pq.write_table(table.slice(0, 1), tmp_path / "data" / "test-00000-of-00001.parquet")
    pairs = load_pairs(tmp_path)
    assert (len(pairs.train), len(pairs.test)) == (3, 1)


def test_it_carries_an_exports_manifest_into_the_provenance(tmp_path):
    export_folder(tmp_path, 4, 2)
    pairs = load_pairs(tmp_path)
    provenance = manifest_provenance(pairs)
    assert provenance["export_id"] == 42
    assert provenance["guideline_versions"] == MANIFEST["guideline_versions"]
    assert provenance["manifest_sha256"] == hashlib.sha256((tmp_path / "manifest.json").read_bytes()).hexdigest()


def test_it_names_the_line_and_field_that_is_missing(tmp_path):
    write_jsonl(tmp_path / "p.jsonl", [{"prompt": "Q", "chosen": "a", "rejected": "b"}, {"prompt": "Q", "chosen": "a"}])
    with pytest.raises(DatasetError, match=r"p\.jsonl, line 2: missing field 'rejected'"):
        load_pairs(tmp_path / "p.jsonl")


def test_it_recognizes_a_raw_judgment_export_as_the_wrong_format(tmp_path):
    write_jsonl(tmp_path / "raw.jsonl", [{"judgment_id": 1, "choice": "a", "rater": "r1"}])
    with pytest.raises(DatasetError, match="line 1: missing field 'chosen'.*raw judgment export"):
        load_pairs(tmp_path / "raw.jsonl")


def test_it_rejects_broken_json_and_bad_margins_naming_the_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"prompt": "Q", "chosen": "a", "rejected": "b"}\n{oops\n')
    with pytest.raises(DatasetError, match="line 2: not valid JSON"):
        load_pairs(tmp_path / "bad.jsonl")
    write_jsonl(tmp_path / "m.jsonl", [{"prompt": "Q", "chosen": "a", "rejected": "b", "margin": "big"}])
    with pytest.raises(DatasetError, match="line 1, field 'margin'"):
        load_pairs(tmp_path / "m.jsonl")


def test_it_rejects_empty_splits_and_unknown_files(tmp_path):
    (tmp_path / "train.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="training split is empty"):
        load_pairs(tmp_path)
    write_jsonl(tmp_path / "train.jsonl", [{"prompt": "Q", "chosen": "a", "rejected": "b"}])
    (tmp_path / "test.jsonl").write_text("")
    with pytest.raises(DatasetError, match="test split is empty"):
        load_pairs(tmp_path)
    (tmp_path / "pairs.csv").write_text("a,b\n")
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_pairs(tmp_path / "pairs.csv")
    with pytest.raises(DatasetError, match="no such file"):
        load_pairs(tmp_path / "missing.jsonl")


def test_it_rejects_a_damaged_parquet_file(tmp_path):
    (tmp_path / "train.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DatasetError, match="not a readable Parquet file"):
        load_pairs(tmp_path / "train.parquet")
