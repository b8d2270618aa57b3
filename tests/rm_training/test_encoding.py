import pytest
from transformers import AutoTokenizer

from rm_training.config import default_base_model
from rm_training.data import Pair
from rm_training.encoding import PairEncoder


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(default_base_model())


def test_it_encodes_short_pairs_exactly_as_the_tokenizers_pair_template(tokenizer):
    encoder = PairEncoder(tokenizer, 64, "pair")
    chosen, rejected = encoder.encode_pairs([Pair("How are you?", " Fine, thanks.", " Go away.")])
    assert chosen[0] == tokenizer("How are you?", " Fine, thanks.")["input_ids"]
    assert rejected[0] == tokenizer("How are you?", " Go away.")["input_ids"]
    assert encoder.report.pairs_cut == 0


def test_it_cuts_the_prompt_from_the_left_and_the_reply_from_the_right(tokenizer):
    prompt = " ".join(f"old{i}" for i in range(100)) + " newest question"
    reply = " ".join(f"word{i}" for i in range(100))
    encoder = PairEncoder(tokenizer, 32, "pair")
    chosen, rejected = encoder.encode_pairs([Pair(prompt, reply, " short")])
    assert len(chosen[0]) == 32 and len(rejected[0]) <= 32
    text = tokenizer.decode(chosen[0])
    assert "newest question [SEP]" in text and "old0" not in text  # the prompt kept its end
    assert "word0" in text and "word99" not in text  # the reply kept its start
    report = encoder.report.as_dict()
    assert report["pairs_truncated"] == 1 and report["sequences_with_prompt_cut_from_left"] == 2
    assert report["sequences_with_reply_cut_from_right"] == 1 and report["tokens_dropped"] > 100


def test_it_ignores_the_truncation_saved_in_the_tokenizer_file(tokenizer):
    # MiniLM's tokenizer.json truncates to 128 tokens by itself; we must not silently inherit that.
    encoder = PairEncoder(tokenizer, 512, "pair")
    chosen, _ = encoder.encode_pairs([Pair("Q", " ".join(["word"] * 300), "b")])
    assert len(chosen[0]) == 300 + 4


def test_replies_that_begin_alike_keep_where_they_differ_when_cut(tokenizer):
    # HH-RLHF's chosen and rejected often share their first sentences. Cut from the right, both sides
    # used to keep only that shared start: identical inputs, so the pair taught and measured nothing
    # (17 % of the train bench's pairs at 256 tokens).
    shared = " ".join(f"shared{i}" for i in range(60))
    prompt = "\n\nHuman: " + " ".join(f"ctx{i}" for i in range(40)) + " question?\n\nAssistant:"
    pair = Pair(prompt, f" {shared} so the answer is yes.", f" {shared} so the answer is no.")
    encoder = PairEncoder(tokenizer, 64, "pair")
    chosen, rejected = encoder.encode_pairs([pair])
    assert len(chosen[0]) <= 64 and len(rejected[0]) <= 64
    assert chosen[0] != rejected[0]
    assert tokenizer.decode(chosen[0]).endswith("[SEP] yes. [SEP]")
    assert tokenizer.decode(rejected[0]).endswith("[SEP] no. [SEP]")
    assert "shared59" in tokenizer.decode(chosen[0])  # the context just before they diverge is kept
    report = encoder.report.as_dict()
    assert report["pairs_with_shared_reply_start_kept_as_context"] == 1
    assert report["pairs_identical_after_encoding"] == 0 and report["pairs_truncated"] == 1


def test_pairs_that_fit_are_not_rearranged_even_when_their_replies_begin_alike(tokenizer):
    pair = Pair("Question?", " Well, yes.", " Well, no.")
    chosen, rejected = PairEncoder(tokenizer, 64, "pair").encode_pairs([pair])
    assert chosen[0] == tokenizer("Question?", " Well, yes.")["input_ids"]
    assert rejected[0] == tokenizer("Question?", " Well, no.")["input_ids"]


def test_identical_replies_are_counted(tokenizer):
    encoder = PairEncoder(tokenizer, 32, "pair")
    encoder.encode_pairs([Pair("Q " * 40, " same " * 40, " same " * 40)])
    assert encoder.report.pairs_identical == 1


def test_the_single_template_makes_one_segment(tokenizer):
    encoder = PairEncoder(tokenizer, 64, "single")
    chosen, rejected = encoder.encode_pairs([Pair("How are you?", " Fine, thanks.", " Go away.")])
    assert chosen[0] == tokenizer("How are you? Fine, thanks.")["input_ids"]
    assert rejected[0] == tokenizer("How are you? Go away.")["input_ids"]
    assert tokenizer.convert_ids_to_tokens(chosen[0]).count("[SEP]") == 1


def test_the_single_template_cuts_by_the_same_rules(tokenizer):
    shared = " ".join(f"shared{i}" for i in range(60))
    prompt = " ".join(f"old{i}" for i in range(100)) + " newest question"
    encoder = PairEncoder(tokenizer, 64, "single")
    chosen, rejected = encoder.encode_pairs([Pair(prompt, f" {shared} so yes.", f" {shared} so no.")])
    assert len(chosen[0]) <= 64 and len(rejected[0]) <= 64 and chosen[0] != rejected[0]
    assert tokenizer.decode(chosen[0]).endswith("so yes. [SEP]") and "old0" not in tokenizer.decode(chosen[0])
    assert encoder.report.shared_start_moved == 1


def test_an_unknown_template_is_refused(tokenizer):
    with pytest.raises(ValueError, match="input template must be one of single, pair"):
        PairEncoder(tokenizer, 64, "triple")
