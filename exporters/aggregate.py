"""From the judgments of one comparison to (at most) one preference.

Votes. Under `--ties drop` tie judgments are removed first (counted as dropped judgments, reason
"tie"). Every other judgment is a vote for one of a, b, tie (only under `--ties keep`) or both_bad.
both_bad ("neither response is acceptable") is a vote too: it is no preference, so when it wins
the comparison is dropped, and when it loses it lowers the row's agreement.

One vote per rater. A consistency repeat (JudgmentRecord.repeat: the rater judged the pair again,
sides swapped, to measure their consistency) is exported only when the lead asks for repeats. In the
raw format and with `--aggregate none` it is a row of its own, marked; when aggregating, the rater's
original judgment is their vote and the repeat is dropped (counted as dropped, reason "repeat"), so
no rater counts twice. A repeat whose original is not in the selection (an export of repeats only)
is the rater's vote.

majority: the label with strictly the most votes wins. A shared top count is "split_vote"; a
winning tie is "tie_won"; a winning both_bad is "both_bad_won"; these comparisons are dropped and
counted with the reason. Only a or b makes a row.

dawid-skene: crowd-kit's DawidSkene over all comparisons at once (a first pass over the labels
only) estimates each rater's confusion matrix and each comparison's label posterior; the label
with the highest posterior wins, with the same drop reasons (two labels within 1e-9 of each other
is "split_vote").
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

import numpy as np

from exporters.records import ComparisonRecord, JudgmentRecord

LABELS = ("a", "b", "tie", "both_bad")
LABEL_INDEX = {label: i for i, label in enumerate(LABELS)}


def one_vote_per_rater(judgments: list[JudgmentRecord]) -> list[JudgmentRecord]:
    """The judgments without consistency repeats whose rater's original judgment is among them."""
    if not any(j.repeat for j in judgments):
        return judgments  # the common case: repeats are left out of exports by default
    originals = {j.rater for j in judgments if not j.repeat}
    return [j for j in judgments if not (j.repeat and j.rater in originals)]


def votes(judgments: list[JudgmentRecord], ties: str) -> list[JudgmentRecord]:
    """The judgments that count, after the tie policy."""
    if ties == "drop":
        return [j for j in judgments if j.choice != "tie"]
    return list(judgments)


def _outcome(label: str) -> tuple[str | None, str | None]:
    if label in ("a", "b"):
        return label, None
    return None, f"{label}_won"


def majority(tally: dict[str, int]) -> tuple[str | None, str | None]:
    """(winner, None) or (None, reason), from {label: votes}."""
    if not tally:
        return None, "no_votes_left"
    top = max(tally.values())
    leaders = [label for label in LABELS if tally.get(label) == top]
    if len(leaders) > 1:
        return None, "split_vote"
    return _outcome(leaders[0])


class DawidSkeneLabels:
    """First pass: fit Dawid-Skene on (rater, comparison, label) ints, then look winners up in order."""

    def __init__(self, groups: Callable[[], Iterable[tuple[ComparisonRecord, list[JudgmentRecord]]]],
                 ties: str, n_iter: int = 100):
        tasks, workers, labels = [], [], []
        rater_codes: dict[str, int] = {}
        for comparison, judgments in groups():
            for j in votes(one_vote_per_rater(judgments), ties):
                tasks.append(comparison.comparison_id)
                workers.append(rater_codes.setdefault(j.rater, len(rater_codes)))
                labels.append(LABEL_INDEX.get(j.choice, -1))
        self._tasks = np.zeros(0, dtype=np.int64)
        self._outcomes = np.zeros(0, dtype=np.int8)
        if not tasks:
            return
        import pandas as pd  # only here: a vectorised frame is what crowd-kit takes
        from crowdkit.aggregation import DawidSkene

        frame = pd.DataFrame({"worker": np.asarray(workers, dtype=np.int64),
                              "task": np.asarray(tasks, dtype=np.int64),
                              "label": np.asarray(labels, dtype=np.int64)})
        del tasks, workers, labels
        model = DawidSkene(n_iter=n_iter)
        with warnings.catch_warnings():  # crowd-kit 1.4.2 uses pandas idioms pandas 3.1 deprecates
            warnings.simplefilter("ignore")
            model.fit(frame)
        del frame
        probas = model.probas_.sort_index()
        columns = np.asarray(probas.columns, dtype=np.int64)
        values = probas.to_numpy(dtype=np.float64)
        rows = np.arange(len(values))
        order = np.argsort(-values, axis=1, kind="stable")
        best = values[rows, order[:, 0]]
        second = values[rows, order[:, 1]] if values.shape[1] > 1 else np.zeros(len(values))
        outcome = columns[order[:, 0]].astype(np.int8)        # 0 a, 1 b, 2 tie, 3 both_bad
        outcome[best - second < 1e-9] = _SPLIT
        self._tasks = probas.index.to_numpy(dtype=np.int64)
        self._outcomes = outcome

    def decide(self, comparison_id: int) -> tuple[str | None, str | None]:
        """(winner, None) or (None, reason), as majority() returns."""
        i = int(np.searchsorted(self._tasks, comparison_id))
        if i == len(self._tasks) or self._tasks[i] != comparison_id:
            return None, "no_votes_left"
        code = int(self._outcomes[i])
        return (None, "split_vote") if code == _SPLIT else _outcome(LABELS[code])


_SPLIT = 4
