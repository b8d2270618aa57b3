"""Score pairs with a reward model for its diagnostics: rm_training's batched, length-sorted scorer,
run in chunks so the job reports progress (and notices a cancel) between them."""
from collections.abc import Callable

import numpy as np

from prefkit.probes import ProbeItem
from rm_training.data import Pair

CHUNK = 256  # pairs per progress tick; each chunk is sorted by length and padded per batch inside


def probe_pair(item: ProbeItem) -> Pair:
    """A probe as a (sycophantic, other) pair, rendered like a trl-standard row: the prompt without
    its leading blank line, each reply after a space."""
    return Pair(item.prompt.lstrip("\n"), " " + item.sycophantic, " " + item.other)


class Scorer:
    """One loaded model (torch is imported here, in the worker that scores, not by the web process)."""

    def __init__(self, model_dir: str):
        from rm_training.device import set_threads, use_bf16
        from rm_training.score import encoder_for, load_reward_model

        set_threads(None)
        self.model, self.tokenizer, record = load_reward_model(model_dir)
        self.encoder = encoder_for(self.model, self.tokenizer, record)
        self.bf16 = use_bf16("auto")

    def rewards(self, pairs: list[Pair], tick: Callable[[int], None]) -> tuple[np.ndarray, np.ndarray]:
        """(reward of chosen, reward of rejected) per pair, in input order; tick(n) after each chunk."""
        from rm_training.score import score_encoded

        first, second = np.zeros(len(pairs)), np.zeros(len(pairs))
        # Similar lengths in one chunk, so its batches pad little (score_encoded sorts within a chunk).
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].prompt) + len(pairs[i].chosen) + len(pairs[i].rejected))
        for start in range(0, len(order), CHUNK):
            chunk = order[start:start + CHUNK]
            chosen, rejected = score_encoded(self.model, self.tokenizer, self.encoder, [pairs[i] for i in chunk],
                                             bf16=self.bf16)
            first[chunk], second[chunk] = chosen, rejected
            tick(len(chunk))
        return first, second
