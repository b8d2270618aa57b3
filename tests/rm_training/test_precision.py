"""bf16 autocast with the reward head kept in fp32: close rewards stay apart, in scoring and in training.

torch runs bf16 autocast on any CPU (emulated where the CPU lacks avx512_bf16), so these run everywhere.
"""
from copy import deepcopy

import pytest
import torch
from transformers import AutoTokenizer

import rm_training.train as train_module
from rm_training.config import default_base_model
from rm_training.device import keep_head_in_fp32, load_classifier
from rm_training.score import reward_scores
from rm_training.train import train

from .conftest import export_folder
from .test_training import tiny_config

REPLIES = [f"Mix flour, water, salt and yeast, knead it for {n} minutes, let it rise, then bake it." for n in range(5, 29)]


@pytest.fixture(scope="module")
def reward_model():
    """The packaged MiniLM with a head like a trained one's: rewards around 2, spread about 1."""
    model = load_classifier(default_base_model()).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(50)
        model.classifier.bias.fill_(2.0)
    tokenizer = AutoTokenizer.from_pretrained(default_base_model())
    sequences = [tokenizer("How do I bake bread?" + reply)["input_ids"] for reply in REPLIES]
    return model, tokenizer, sequences


def on_bf16_grid(values) -> int:
    exact = torch.tensor(values, dtype=torch.float32)
    return int((exact.bfloat16().float() == exact).sum())


def test_bf16_scoring_does_not_round_rewards_to_bf16(reward_model):
    """Rounded to bf16, rewards near 2 lie 0.016 apart, so replies the model tells apart by less tie.

    The encoder's own bf16 error stays (here up to 0.010 against fp32, on a spread of 0.8; with the head
    in bf16 too, 0.014 and one tie): what the head adds is the rounding, and with it the ties.
    """
    model, tokenizer, sequences = reward_model
    exact = reward_scores(model, sequences, pad_id=tokenizer.pad_token_id, bf16=False)
    fast = reward_scores(model, sequences, pad_id=tokenizer.pad_token_id, bf16=True)
    assert on_bf16_grid(fast) < len(fast) // 2, "the head ran in bf16: its rewards are bf16 values"
    assert len(set(fast)) == len(set(exact)) == len(REPLIES)
    assert max(abs(a - b) for a, b in zip(exact, fast)) < 0.03


def test_padding_batches_to_a_width_multiple_changes_no_reward(reward_model):
    """bf16 scoring pads each batch to a multiple of 32 tokens (fewer shapes for oneDNN to build kernels
    for); the padding is masked, so in fp32 the rewards match unpadded ones. A 512-token input (all of
    MiniLM's positions) is among them: rounding must not push any batch past it."""
    model, tokenizer, sequences = reward_model
    longest = tokenizer("bake " * 600, truncation=True, max_length=512)["input_ids"]
    sequences = sequences + [longest, longest[:500] + [tokenizer.sep_token_id]]
    plain = reward_scores(model, sequences, pad_id=tokenizer.pad_token_id, bf16=False, width_multiple=1)
    rounded = reward_scores(model, sequences, pad_id=tokenizer.pad_token_id, bf16=False, width_multiple=32)
    assert max(abs(a - b) for a, b in zip(plain, rounded)) < 1e-4
    assert len(set(plain)) == len(sequences)


def test_the_head_runs_in_fp32_under_autocast_and_still_learns(reward_model):
    model, tokenizer, sequences = reward_model
    keys = list(model.state_dict())
    assert keep_head_in_fp32(model) in (["pooler", "classifier"], [])  # [] when another test already did
    assert keep_head_in_fp32(model) == []  # once only
    assert list(model.state_dict()) == keys  # saved folders are unchanged

    ids = torch.tensor([sequences[0], sequences[1]])
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(input_ids=ids).logits
    (logits[0, 0] - logits[1, 0]).backward()
    assert logits.dtype == torch.float32
    assert model.classifier.weight.grad.abs().sum() > 0
    assert model.bert.encoder.layer[0].attention.self.query.weight.grad.abs().sum() > 0
    model.zero_grad()


def test_a_deep_copy_runs_its_own_head(reward_model):
    model, _, sequences = reward_model
    keep_head_in_fp32(model)
    copy = deepcopy(model)
    with torch.no_grad():
        copy.classifier.bias.add_(1.0)
    ids = torch.tensor([sequences[0]])
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        shift = copy(input_ids=ids).logits[0, 0] - model(input_ids=ids).logits[0, 0]
    assert shift.item() == pytest.approx(1.0, abs=1e-5)


def test_a_bf16_training_run_keeps_the_head_in_fp32(tmp_path, monkeypatch):
    """Forced to bf16 (emulated on a CPU without it), the classifier hands TRL's loss fp32 rewards."""
    seen = []

    def load_base(config):
        model, tokenizer = original(config)
        model.classifier.register_forward_hook(lambda module, args, output: seen.append(output.dtype))
        return model, tokenizer

    original = train_module.load_base
    monkeypatch.setattr(train_module, "use_bf16", lambda precision: True)
    monkeypatch.setattr(train_module, "load_base", load_base)
    dataset = export_folder(tmp_path / "export", n_train=16, n_test=4)
    result = train(tiny_config(dataset, tmp_path / "model", max_steps=2, eval_steps=0, save_steps=2))
    assert result.record["environment"]["bf16"] is True
    assert seen and set(seen) == {torch.float32}
