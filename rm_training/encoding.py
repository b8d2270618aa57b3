"""Turn pairs into token ids ourselves, cutting what is too long instead of letting TRL drop the pair.

Each side of a pair is one model input made of prompt and reply, in one of two templates: "single", one
segment with the tokenizer's single-sequence specials (BERT: `[CLS] prompt reply [SEP]`), or "pair", the
tokenizer's own pair template (BERT: `[CLS] prompt [SEP] reply [SEP]`, token types 0 then 1). BERT's final
[SEP] is also the end-of-sequence mark it lacks. When the two do not fit in `max_length`, the prompt loses
its *oldest* tokens (the latest turn is what the reply answers) and the reply loses its *last* tokens, the
reply keeping at least half the room.

The two replies of a pair often begin alike (HH-RLHF's chosen and rejected share their first sentences
in about one pair in six) and differ only further on. Cut naively, both sides then keep the same first
tokens and become *identical* inputs: the model cannot tell them apart and the pair teaches and
measures nothing (at 256 tokens this hit 17 % of HH-RLHF pairs). So when a pair does not fit, the
replies' shared start is treated as context: it joins the prompt (cut from the left), and each side
keeps the point where the replies diverge.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .data import Pair

INPUT_TEMPLATES = ("single", "pair")


@dataclass
class TruncationReport:
    """What was cut to fit `max_length`, for the model card."""

    max_length: int
    sequences: int = 0
    prompt_cut: int = 0
    reply_cut: int = 0
    pairs_cut: int = 0
    tokens_dropped: int = 0
    shared_start_moved: int = 0
    pairs_identical: int = 0

    def as_dict(self) -> dict:
        return {
            "max_length": self.max_length, "sequences": self.sequences, "pairs_truncated": self.pairs_cut,
            "sequences_with_prompt_cut_from_left": self.prompt_cut,
            "sequences_with_reply_cut_from_right": self.reply_cut, "tokens_dropped": self.tokens_dropped,
            "pairs_with_shared_reply_start_kept_as_context": self.shared_start_moved,
            "pairs_identical_after_encoding": self.pairs_identical,
            "how": "prompt cut from the left (oldest turns first), reply cut from the right; when a pair does "
                   "not fit, the start its two replies share counts as prompt, so both keep where they "
                   "differ; no pair dropped",
        }


@dataclass
class PairEncoder:
    """Encode (prompt, reply) inputs for one tokenizer; needs a fast (Rust `tokenizers`) tokenizer."""

    tokenizer: object
    max_length: int
    template: str  # "single" or "pair": what the model is (or was) trained with; no default on purpose
    report: TruncationReport = field(init=False)

    def __post_init__(self):
        if self.template not in INPUT_TEMPLATES:
            raise ValueError(f"input template must be one of {', '.join(INPUT_TEMPLATES)}, not {self.template!r}")
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(f"{type(self.tokenizer).__name__} is not a fast tokenizer; rm_training needs one")
        self.backend = copy.deepcopy(backend)  # saved tokenizers may carry their own truncation and padding
        self.backend.no_truncation()
        self.backend.no_padding()
        self.specials = self.backend.num_special_tokens_to_add(is_pair=self.template == "pair")
        self.room = self.max_length - self.specials  # text tokens per (prompt, reply) input
        if self.max_length <= self.specials + 2:
            raise ValueError(f"max_length {self.max_length} leaves no room for text")
        # Without a pair template (causal LMs) nothing separates prompt and reply: add a blank line.
        self.needs_separator = self.tokenizer.sep_token is None
        self.report = TruncationReport(self.max_length)

    def _budgets(self, prompt_len: int, reply_len: int) -> tuple[int, int]:
        if prompt_len + reply_len <= self.room:
            return prompt_len, reply_len
        reply_keep = min(reply_len, max(self.room - prompt_len, self.room // 2))
        return self.room - reply_keep, reply_keep

    def _tokenize(self, texts: list[str]):
        return self.backend.encode_batch(texts, add_special_tokens=False)

    def encode_pairs(self, pairs: list[Pair]) -> tuple[list[list[int]], list[list[int]]]:
        """Return (chosen ids, rejected ids) per pair; a pair counts as truncated if either side was."""
        prompts = [p.prompt for p in pairs]
        if self.needs_separator:
            prompts = [p if not p or p[-1].isspace() else p + "\n\n" for p in prompts]
        chosen_ids, rejected_ids = [], []
        for prompt, chosen, rejected in zip(self._tokenize(prompts), self._tokenize([p.chosen for p in pairs]),
                                            self._tokenize([p.rejected for p in pairs])):
            if len(prompt.ids) + max(len(chosen.ids), len(rejected.ids)) > self.room:
                prompt, chosen, rejected = self._shared_start_as_context(prompt, chosen, rejected)
            chosen_seq, chosen_cut = self._fit(_copy(prompt), chosen)
            rejected_seq, rejected_cut = self._fit(prompt, rejected)
            self.report.pairs_cut += chosen_cut or rejected_cut
            self.report.pairs_identical += chosen_seq == rejected_seq
            chosen_ids.append(chosen_seq)
            rejected_ids.append(rejected_seq)
        return chosen_ids, rejected_ids

    def _shared_start_as_context(self, prompt, chosen, rejected):
        """Move the replies' common first tokens to the end of the prompt (see the module docstring)."""
        shared = 0
        for a, b in zip(chosen.ids, rejected.ids):
            if a != b:
                break
            shared += 1
        if shared == 0:
            return prompt, chosen, rejected
        self.report.shared_start_moved += 1
        head = _copy(chosen)
        head.truncate(shared, direction="right")
        chosen.truncate(len(chosen.ids) - shared, direction="left")
        rejected.truncate(len(rejected.ids) - shared, direction="left")
        return _merge(prompt, head), chosen, rejected

    def _fit(self, prompt, reply) -> tuple[list[int], bool]:
        """Cut one (prompt, reply) to max_length as the module docstring says; return its ids and whether it was cut."""
        p_keep, r_keep = self._budgets(len(prompt.ids), len(reply.ids))
        cut = self._count(len(prompt.ids) - p_keep, len(reply.ids) - r_keep)
        prompt.truncate(p_keep, direction="left")
        reply.truncate(r_keep, direction="right")
        if self.template == "single":
            return self.backend.post_process(_merge(prompt, reply), None, add_special_tokens=True).ids, cut
        return self.backend.post_process(prompt, reply, add_special_tokens=True).ids, cut

    def _count(self, prompt_dropped: int, reply_dropped: int) -> bool:
        self.report.sequences += 1
        self.report.prompt_cut += prompt_dropped > 0
        self.report.reply_cut += reply_dropped > 0
        self.report.tokens_dropped += prompt_dropped + reply_dropped
        return prompt_dropped + reply_dropped > 0


def _copy(encoding):
    """An independent copy of a `tokenizers.Encoding` (truncate works in place)."""
    return type(encoding).merge([encoding], growing_offsets=False)


def _merge(first, second):
    return type(first).merge([first, second], growing_offsets=True)
