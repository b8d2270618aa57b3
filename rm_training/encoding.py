"""Turn pairs into token ids ourselves, cutting what is too long instead of letting TRL drop the pair.

Each side of a pair is the model input `prompt [SEP] reply` (the tokenizer's own pair template: BERT puts
[CLS] before and [SEP] between and after, which is also the end-of-sequence mark BERT lacks). When the two
do not fit in `max_length`, the prompt loses its *oldest* tokens (the latest turn is what the reply answers)
and the reply loses its *last* tokens, the reply keeping at least half the room.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .data import Pair


@dataclass
class TruncationReport:
    """What was cut to fit `max_length`, for the model card."""

    max_length: int
    sequences: int = 0
    prompt_cut: int = 0
    reply_cut: int = 0
    pairs_cut: int = 0
    tokens_dropped: int = 0

    def as_dict(self) -> dict:
        return {
            "max_length": self.max_length, "sequences": self.sequences, "pairs_truncated": self.pairs_cut,
            "sequences_with_prompt_cut_from_left": self.prompt_cut,
            "sequences_with_reply_cut_from_right": self.reply_cut, "tokens_dropped": self.tokens_dropped,
            "how": "prompt cut from the left (oldest turns first), reply cut from the right; no pair dropped",
        }


@dataclass
class PairEncoder:
    """Encode (prompt, reply) inputs for one tokenizer; needs a fast (Rust `tokenizers`) tokenizer."""

    tokenizer: object
    max_length: int
    report: TruncationReport = field(init=False)

    def __post_init__(self):
        backend = getattr(self.tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(f"{type(self.tokenizer).__name__} is not a fast tokenizer; rm_training needs one")
        self.backend = copy.deepcopy(backend)  # saved tokenizers may carry their own truncation and padding
        self.backend.no_truncation()
        self.backend.no_padding()
        self.specials = self.backend.num_special_tokens_to_add(is_pair=True)
        if self.max_length <= self.specials + 2:
            raise ValueError(f"max_length {self.max_length} leaves no room for text")
        # Without a pair template (causal LMs) nothing separates prompt and reply: add a blank line.
        self.needs_separator = self.tokenizer.sep_token is None
        self.report = TruncationReport(self.max_length)

    def _budgets(self, prompt_len: int, reply_len: int) -> tuple[int, int]:
        room = self.max_length - self.specials
        if prompt_len + reply_len <= room:
            return prompt_len, reply_len
        reply_keep = min(reply_len, max(room - prompt_len, room // 2))
        return room - reply_keep, reply_keep

    def encode_batch(self, prompts: list[str], replies: list[str]) -> tuple[list[list[int]], list[bool]]:
        """Return the token ids of each (prompt, reply) and whether it was cut, counting what was cut."""
        if self.needs_separator:
            prompts = [p if not p or p[-1].isspace() else p + "\n\n" for p in prompts]
        prompt_encodings = self.backend.encode_batch(prompts, add_special_tokens=False)
        reply_encodings = self.backend.encode_batch(replies, add_special_tokens=False)
        ids, cut = [], []
        for p_enc, r_enc in zip(prompt_encodings, reply_encodings):
            p_keep, r_keep = self._budgets(len(p_enc.ids), len(r_enc.ids))
            cut.append(self._count(len(p_enc.ids) - p_keep, len(r_enc.ids) - r_keep))
            p_enc.truncate(p_keep, direction="left")
            r_enc.truncate(r_keep, direction="right")
            ids.append(self.backend.post_process(p_enc, r_enc, add_special_tokens=True).ids)
        return ids, cut

    def _count(self, prompt_dropped: int, reply_dropped: int) -> bool:
        self.report.sequences += 1
        self.report.prompt_cut += prompt_dropped > 0
        self.report.reply_cut += reply_dropped > 0
        self.report.tokens_dropped += prompt_dropped + reply_dropped
        return prompt_dropped + reply_dropped > 0

    def encode_pairs(self, pairs: list[Pair]) -> tuple[list[list[int]], list[list[int]]]:
        """Return (chosen ids, rejected ids) per pair; a pair counts as truncated if either side was."""
        prompts = [p.prompt for p in pairs]
        chosen, chosen_cut = self.encode_batch(prompts, [p.chosen for p in pairs])
        rejected, rejected_cut = self.encode_batch(prompts, [p.rejected for p in pairs])
        self.report.pairs_cut += sum(c or r for c, r in zip(chosen_cut, rejected_cut))
        return chosen, rejected
