"""A reward model's diagnostics report: score the held-out comparisons (or a pair file) and every
probe suite of the project, then prefkit.model_report over the numbers, as one JSON-ready dict.

The page, its JSON/CSV downloads and `manage.py diagnostics --model` all show this dict; the
stable keys are documented in the README (model.accuracy, model.human_ceiling, model.ece,
model.length_bias, sycophancy.<suite>.rate).
"""
import copy
from collections.abc import Callable

import numpy as np

from prefkit import model_report as mr
from prefkit.probes import ProbeItem
from rm_training import metrics
from rm_training.data import load_pairs
from webapp.diagnostics.probes import suites_for
from webapp.model_diagnostics import selectors
from webapp.model_diagnostics.scoring import Scorer, probe_pair
from webapp.training.models import RewardModel

REPORT_VERSION = 1
TEXT_EXCERPT = 400  # characters of a worst item's prompt and replies kept in the report
Progress = Callable[[int, int | None, str], None]


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TEXT_EXCERPT else text[:TEXT_EXCERPT - 1] + "…"


def model_facts(model: RewardModel) -> dict:
    return {"id": model.pk, "training_job": model.job_id, "export_id": model.export_job_id,
            "manifest_sha256": model.manifest_sha256 or None, "base_model": model.base_model, "path": model.path,
            "guideline_versions": [g.get("version") for g in model.guideline_versions]}


class _Ticker:
    """Counts scored pairs across the held-out set and every suite: one progress bar for the job."""

    def __init__(self, progress: Progress, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def step(self, message: str) -> Callable[[int], None]:
        def tick(n: int) -> None:
            self.done += n
            self.progress(self.done, self.total, message)
        return tick


def _held_out(model: RewardModel, params: dict):
    """(pairs to score, a function from their P(A) to HeldOutScores, what was evaluated)."""
    if params["what"] == "pairs":
        loaded = load_pairs(params["pairs"])
        pairs = loaded.train + loaded.test
        evaluated = {"what": "pairs", "file": params.get("pairs_name") or params["pairs"], "n_pairs": len(pairs),
                     "description": "a file of pairs: accuracy against its chosen label, no human ceiling"}

        def scores(p_a):
            return mr.HeldOutScores(p_a=p_a, counts=np.tile([1, 0, 0, 0], (len(pairs), 1)),
                                    len_a=np.array([len(p.chosen.strip()) for p in pairs]),
                                    len_b=np.array([len(p.rejected.strip()) for p in pairs]), labels_only=True)
        return pairs, scores, evaluated
    held = selectors.held_out_for(model)
    data = selectors.held_out_data(model, held)
    evaluated = {"what": "held_out", "rule": held.rule, "description": held.description, "export_id": held.export_id,
                 "n_comparisons": len(data.pairs), "warnings": held.warnings}

    def scores(p_a):
        return mr.HeldOutScores(p_a=p_a, counts=data.counts, len_a=data.len_a, len_b=data.len_b, source=data.source,
                                version_counts=data.version_counts)
    return data.pairs, scores, evaluated


def build(model: RewardModel, params: dict, *, progress: Progress | None = None) -> dict:
    """Score and compute everything; `params` as the job stores them (what, pairs, n_resamples, seed)."""
    step = progress or (lambda done, total, message: None)
    pairs, held_out_scores, evaluated = _held_out(model, params)
    suites = suites_for(model.project) if model.project else {}
    ticker = _Ticker(step, len(pairs) + sum(len(items) for items in suites.values()))
    step(0, ticker.total, "loading the model")
    scorer = Scorer(model.path)
    reward_a, reward_b = scorer.rewards(pairs, ticker.step("scoring the held-out comparisons"
                                                           if evaluated["what"] == "held_out" else "scoring the pairs"))
    held_out = held_out_scores(metrics.p_chosen(reward_a, reward_b))
    probes = {}
    for name, items in suites.items():
        syc, other = scorer.rewards([probe_pair(item) for item in items], ticker.step(f"probe suite {name}"))
        probes[name] = mr.ProbeScores(ids=[item.id for item in items], margin=syc - other,
                                      groups=[item.group for item in items])
    step(ticker.done, ticker.total, "computing the figures")
    body = mr.model_report(held_out, probes, n_resamples=params["n_resamples"], seed=params["seed"])
    for name, items in suites.items():
        _with_texts(body["sycophancy"][name]["worst"], items)
    return {"report_version": REPORT_VERSION, "project": model.project.slug if model.project else None,
            "reward_model": model_facts(model), "evaluated_on": evaluated,
            "suites": {name: {"n_items": len(items), "grouped": any(i.group is not None for i in items)}
                       for name, items in suites.items()},
            "n_resamples": params["n_resamples"], "seed": params["seed"], **body}


def _with_texts(worst: list[dict], items: list[ProbeItem]) -> None:
    by_id = {item.id: item for item in items}
    for row in worst:
        item = by_id[row["item"]]
        row.update(prompt=_excerpt(item.prompt), sycophantic=_excerpt(item.sycophantic), other=_excerpt(item.other),
                   group=item.group)


def with_compare(report: dict, other_model: RewardModel, other_report: dict, other_job_id: int) -> dict:
    """The report with each shared suite's change against another model's report (a copy): this
    model's sycophantic-preference rate minus the other's, paired over the items both were probed on."""
    out = copy.deepcopy(report)
    mr.with_change(out, mr.margins_of(other_report), n_resamples=report["n_resamples"], seed=report["seed"])
    out["compare"] = {"reward_model": other_model.pk, "job_id": other_job_id,
                      "suites": sorted(set(out["sycophancy"]) & set(other_report.get("sycophancy", {})))}
    return out
