"""How the scorer groups sequences into batches (plain Python: no model)."""
import random

import pytest

from rm_training.score import length_batches, padded_width


def test_every_sequence_is_in_exactly_one_batch_shortest_first():
    lengths = [random.Random(1).randint(5, 512) for _ in range(300)]
    batches = length_batches(lengths, batch_tokens=4096, batch_size=64)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(300))
    assert [lengths[i] for i in flat] == sorted(lengths)


def test_a_batch_pads_to_its_longest_within_the_token_budget():
    lengths = [random.Random(2).randint(5, 512) for _ in range(300)]
    batches = length_batches(lengths, batch_tokens=4096, batch_size=64)
    assert all(len(b) * max(lengths[i] for i in b) <= 4096 for b in batches)
    # Short sequences share a batch, long ones do not: 64 rows of 20 tokens, 8 rows of 512.
    assert [len(b) for b in length_batches([20] * 64 + [512] * 8, batch_tokens=4096, batch_size=64)] == [64, 8]


def test_batches_are_full_up_to_the_budget_or_the_row_cap():
    assert [len(b) for b in length_batches([100] * 25, batch_tokens=1000, batch_size=64)] == [10, 10, 5]
    assert [len(b) for b in length_batches([10] * 25, batch_tokens=10**6, batch_size=8)] == [8, 8, 8, 1]


def test_a_sequence_longer_than_the_budget_runs_alone():
    assert length_batches([3, 900, 4], batch_tokens=100, batch_size=64) == [[0, 2], [1]]


@pytest.mark.parametrize("lengths", [[], [7]])
def test_no_or_one_sequence(lengths):
    assert length_batches(lengths, batch_tokens=16, batch_size=4) == ([[0]] if lengths else [])


def test_a_width_multiple_rounds_the_padded_width_up_within_the_budget():
    lengths = [random.Random(3).randint(5, 500) for _ in range(300)]
    batches = length_batches(lengths, batch_tokens=4096, batch_size=64, width_multiple=32)
    longest = max(lengths)
    widths = [padded_width(max(lengths[i] for i in b), 32, longest) for b in batches]
    assert all(w % 32 == 0 or w == longest for w in widths)
    assert all(len(b) * w <= 4096 or len(b) == 1 for b, w in zip(batches, widths))
    # 9 rows of 100 fit 1,000 tokens unrounded; rounded to 128 only 7 do.
    assert [len(b) for b in length_batches([100] * 9 + [200], batch_tokens=1000, batch_size=64)] == [9, 1]
    assert [len(b) for b in length_batches([100] * 9 + [200], batch_tokens=1000, batch_size=64,
                                           width_multiple=32)] == [7, 3]


def test_rounding_never_pads_past_the_longest_input():
    """The longest input is what the model is known to take (512 positions for MiniLM): 500 rounds to 512,
    and with 510 the longest, 500 pads to 510, not 512, nor 504 to 512 past a model's 510 positions."""
    assert padded_width(500, 32, 512) == 512
    assert padded_width(500, 32, 510) == 510
    assert padded_width(510, 32, 510) == 510
    assert padded_width(7, 1, 510) == 7
